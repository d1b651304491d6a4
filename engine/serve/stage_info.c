#include "stage_info.h"

#include "proto/rpc.h"

void vd_pack_stage_info(msgpack_packer *pk, const vd_plugin_stage_t *ps) {
    msgpack_pack_map(pk, ps->ninfo);
    for (size_t i = 0; i < ps->ninfo; i++) {
        vd_pack_cstr(pk, ps->info[2 * i]);
        vd_pack_cstr(pk, ps->info[2 * i + 1]);
    }
}

void vd_pack_plugin_stages(msgpack_packer *pk, const vd_policy_t *p) {
    size_t n = 0;
    for (size_t i = 0; i < p->npipelines; i++)
        for (size_t s = 0; s < p->pipelines[i].nstages; s++)
            n += p->pipelines[i].stages[s].kind == VD_STAGE_PLUGIN;
    vd_pack_cstr(pk, "plugins");
    msgpack_pack_array(pk, n);
    for (size_t i = 0; i < p->npipelines; i++) {
        for (size_t s = 0; s < p->pipelines[i].nstages; s++) {
            const vd_stage_t *st = &p->pipelines[i].stages[s];
            if (st->kind != VD_STAGE_PLUGIN) continue;
            msgpack_pack_map(pk, 5);
            vd_pack_cstr(pk, "pipeline");
            vd_pack_cstr(pk, p->pipelines[i].name);
            vd_pack_cstr(pk, "stage");
            vd_pack_cstr(pk, st->name);
            vd_pack_cstr(pk, "plugin");
            vd_pack_cstr(pk, st->plugin->lib->desc->name);
            vd_pack_cstr(pk, "version");
            vd_pack_cstr(pk, st->plugin->lib->desc->version ? st->plugin->lib->desc->version : "");
            vd_pack_cstr(pk, "info");
            vd_pack_stage_info(pk, st->plugin);
        }
    }
}
