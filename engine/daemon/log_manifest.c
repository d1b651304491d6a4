#include "log_manifest.h"

#include "base/error.h"
#include "proto/rpc.h"
#include "serve/stage_info.h"

#include <stdio.h>
#include <xxhash.h>

int vd_log_manifest(vd_dlog_t *log, const vd_policy_src_t *src, const vd_policy_t *p) {
    if (!log) return 0;
    msgpack_sbuffer sb;
    msgpack_sbuffer_init(&sb);
    msgpack_packer pk;
    msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
    msgpack_pack_map(&pk, 3);
    vd_pack_cstr(&pk, "version");
    vd_pack_cstr(&pk, src->version);
    vd_pack_cstr(&pk, "files");
    msgpack_pack_map(&pk, src->nfiles);
    for (size_t i = 0; i < src->nfiles; i++) {
        char hash[24];
        snprintf(hash, sizeof hash, "%016llx",
                 (unsigned long long)XXH3_64bits(src->files[i].data, src->files[i].len));
        vd_pack_cstr(&pk, src->files[i].path);
        vd_pack_cstr(&pk, hash);
    }
    vd_pack_plugin_stages(&pk, p);
    int rc = sb.data ? vd_dlog_set_policy(log, sb.data, sb.size) : VD_ENOMEM;
    msgpack_sbuffer_destroy(&sb);
    return rc;
}
