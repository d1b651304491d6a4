/* The stats method's reply, rendered from a snapshot. */
#include "stats.h"

#include <string.h>

static void pack_latency(msgpack_packer *pk, const vd_stats_agg_t *a) {
    static const double qs[] = {0.5, 0.9, 0.99};
    static const char *const names[] = {"p50", "p90", "p99"};
    vd_pack_cstr(pk, "latency_us");
    msgpack_pack_map(pk, 3);
    for (int i = 0; i < 3; i++) {
        vd_pack_cstr(pk, names[i]);
        msgpack_pack_double(pk, vd_stats_quantile_us(a, qs[i]));
    }
}

static int is_stage_of(const vd_stats_agg_t *s, const vd_stats_agg_t *p) {
    return *s->stage && strcmp(s->pipeline, p->pipeline) == 0;
}

static void pack_pipeline(msgpack_packer *pk, const vd_stats_snapshot_t *snap,
                          const vd_stats_agg_t *p) {
    size_t nstages = 0;
    for (size_t i = 0; i < snap->nnodes; i++)
        nstages += is_stage_of(&snap->nodes[i], p);
    vd_pack_cstr(pk, p->pipeline);
    msgpack_pack_map(pk, 5);
    vd_pack_u64(pk, "requests", p->count);
    vd_pack_u64(pk, "errors", p->errors);
    pack_latency(pk, p);
    vd_pack_cstr(pk, "actions");
    msgpack_pack_map(pk, (size_t)p->nactions);
    for (int i = 0; i < p->nactions; i++)
        vd_pack_u64(pk, p->action_names[i], p->action_counts[i]);
    vd_pack_cstr(pk, "stages");
    msgpack_pack_map(pk, nstages);
    for (size_t i = 0; i < snap->nnodes; i++) {
        const vd_stats_agg_t *s = &snap->nodes[i];
        if (!is_stage_of(s, p)) continue;
        vd_pack_cstr(pk, s->stage);
        msgpack_pack_map(pk, 5);
        vd_pack_u64(pk, "runs", s->count);
        vd_pack_u64(pk, "faults", s->errors);
        vd_pack_u64(pk, "timeouts", s->timeouts);
        vd_pack_u64(pk, "fired", s->fired);
        pack_latency(pk, s);
    }
}

void vd_stats_pack(msgpack_packer *pk, const vd_stats_snapshot_t *s, const vd_stats_globals_t *g) {
    size_t npipes = 0;
    for (size_t i = 0; i < s->nnodes; i++)
        npipes += !*s->nodes[i].stage;
    msgpack_pack_map(pk, 15 + (size_t)(g->pack_extra ? g->nextra : 0));
    vd_pack_u64(pk, "workers", (uint64_t)g->workers);
    vd_pack_u64(pk, "requests", s->requests);
    vd_pack_u64(pk, "decisions", s->decisions);
    vd_pack_u64(pk, "notifications", s->notifications);
    vd_pack_u64(pk, "errors", s->errors_total);
    vd_pack_cstr(pk, "errors_by_code");
    msgpack_pack_map(pk, VD_RPC__ERR_COUNT);
    for (int e = 0; e < VD_RPC__ERR_COUNT; e++)
        vd_pack_u64(pk, vd_rpc_err_name(e), s->errors[e]);
    vd_pack_u64(pk, "connections_total", s->conns_total);
    vd_pack_u64(pk, "connections_open", s->conns_open);
    vd_pack_u64(pk, "bytes_in", s->bytes_in);
    vd_pack_u64(pk, "bytes_out", s->bytes_out);
    vd_pack_cstr(pk, "policy");
    vd_pack_cstr(pk, g->policy);
    vd_pack_u64(pk, "reloads", g->reloads);
    vd_pack_u64(pk, "reload_failures", g->reload_failures);
    vd_pack_cstr(pk, "uptime_s");
    msgpack_pack_double(pk, g->uptime_s);
    vd_pack_cstr(pk, "pipelines");
    msgpack_pack_map(pk, npipes);
    for (size_t i = 0; i < s->nnodes; i++)
        if (!*s->nodes[i].stage) pack_pipeline(pk, s, &s->nodes[i]);
    if (g->pack_extra) g->pack_extra(pk, g->extra_ctx);
}
