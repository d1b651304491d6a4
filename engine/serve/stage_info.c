#include "stage_info.h"

#include "proto/rpc.h"

void vd_pack_stage_info(msgpack_packer *pk, const vd_plugin_stage_t *ps) {
    msgpack_pack_map(pk, ps->ninfo);
    for (size_t i = 0; i < ps->ninfo; i++) {
        vd_pack_cstr(pk, ps->info[2 * i]);
        vd_pack_cstr(pk, ps->info[2 * i + 1]);
    }
}
