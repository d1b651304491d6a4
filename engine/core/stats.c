#include "stats.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

void vd_hist_add(vd_hist_t *h, int64_t ns) {
    int i = ns <= 1 ? 0 : (int)(log2((double)ns) * 4.0);
    if (i >= VD_HIST_BUCKETS) i = VD_HIST_BUCKETS - 1;
    vd_counter_add(&h->b[i], 1);
}

void vd_stats_init(vd_stats_t *s) {
    memset(s, 0, sizeof *s);
}

void vd_stats_close(vd_stats_t *s) {
    vd_stat_node_t *n = atomic_load(&s->head);
    while (n) {
        vd_stat_node_t *next = atomic_load(&n->next);
        free(n);
        n = next;
    }
    atomic_store(&s->head, NULL);
}

static void copy_name(char *dst, size_t cap, const char *src) {
    strncpy(dst, src, cap - 1);
    dst[cap - 1] = '\0';
}

vd_stat_node_t *vd_stats_node(vd_stats_t *s, const char *pipeline, const char *stage) {
    vd_stat_node_t *last = NULL;
    for (vd_stat_node_t *n = atomic_load(&s->head); n; n = atomic_load(&n->next)) {
        if (strncmp(n->pipeline, pipeline, sizeof n->pipeline - 1) == 0 &&
            strncmp(n->stage, stage, sizeof n->stage - 1) == 0)
            return n;
        last = n;
    }
    vd_stat_node_t *n = calloc(1, sizeof *n);
    if (!n) return NULL;
    copy_name(n->pipeline, sizeof n->pipeline, pipeline);
    copy_name(n->stage, sizeof n->stage, stage);
    /* Release: readers that see the node also see its names. */
    if (last)
        atomic_store_explicit(&last->next, n, memory_order_release);
    else
        atomic_store_explicit(&s->head, n, memory_order_release);
    return n;
}

void vd_stats_count_action(vd_stat_node_t *n, const char *action) {
    int k = atomic_load_explicit(&n->nactions, memory_order_relaxed);
    for (int i = 0; i < k; i++) {
        if (strcmp(n->action_names[i], action) == 0) {
            vd_counter_add(&n->action_counts[i], 1);
            return;
        }
    }
    if (k == VD_STAT_ACTIONS) return; /* more distinct actions than slots: not itemised */
    copy_name(n->action_names[k], sizeof n->action_names[k], action);
    vd_counter_add(&n->action_counts[k], 1);
    atomic_store_explicit(&n->nactions, k + 1, memory_order_release);
}

/* ---- aggregation for the stats method ---- */

typedef struct {
    const char *pipeline, *stage;
    uint64_t count, errors, fired;
    uint64_t hist[VD_HIST_BUCKETS];
    const char *action_names[VD_STAT_ACTIONS];
    uint64_t action_counts[VD_STAT_ACTIONS];
    int nactions;
} agg_t;

static void merge_actions(agg_t *a, vd_stat_node_t *n) {
    int k = atomic_load_explicit(&n->nactions, memory_order_acquire);
    for (int i = 0; i < k; i++) {
        int j = 0;
        while (j < a->nactions && strcmp(a->action_names[j], n->action_names[i]) != 0)
            j++;
        if (j == a->nactions) {
            if (j == VD_STAT_ACTIONS) continue;
            a->action_names[a->nactions++] = n->action_names[i];
        }
        a->action_counts[j] += vd_counter_get(&n->action_counts[i]);
    }
}

static agg_t *aggregate(vd_stats_t *const *sets, int nsets, size_t *count) {
    size_t cap = 16, len = 0;
    agg_t *aggs = calloc(cap, sizeof *aggs);
    for (int w = 0; aggs && w < nsets; w++) {
        vd_stat_node_t *n = atomic_load_explicit(&sets[w]->head, memory_order_acquire);
        for (; n; n = atomic_load_explicit(&n->next, memory_order_acquire)) {
            size_t i = 0;
            while (i < len && (strcmp(aggs[i].pipeline, n->pipeline) != 0 ||
                               strcmp(aggs[i].stage, n->stage) != 0))
                i++;
            if (i == len) {
                if (len == cap) {
                    agg_t *more = realloc(aggs, cap * 2 * sizeof *aggs);
                    if (!more) break;
                    aggs = more;
                    memset(aggs + cap, 0, cap * sizeof *aggs);
                    cap *= 2;
                }
                aggs[len].pipeline = n->pipeline;
                aggs[len].stage = n->stage;
                len++;
            }
            agg_t *a = &aggs[i];
            a->count += vd_counter_get(&n->count);
            a->errors += vd_counter_get(&n->errors);
            a->fired += vd_counter_get(&n->fired);
            for (int b = 0; b < VD_HIST_BUCKETS; b++)
                a->hist[b] += vd_counter_get(&n->latency.b[b]);
            merge_actions(a, n);
        }
    }
    *count = len;
    return aggs;
}

/* Latency at quantile q, in microseconds (bucket midpoint). */
static double quantile_us(const uint64_t *hist, uint64_t total, double q) {
    if (total == 0) return 0;
    uint64_t rank = (uint64_t)ceil(q * (double)total), seen = 0;
    for (int b = 0; b < VD_HIST_BUCKETS; b++) {
        seen += hist[b];
        if (seen >= rank && hist[b]) return pow(2.0, (b + 0.5) / 4.0) / 1000.0;
    }
    return 0;
}

static void pack_u64(msgpack_packer *pk, const char *key, uint64_t v) {
    vd_pack_cstr(pk, key);
    msgpack_pack_uint64(pk, v);
}

static void pack_latency(msgpack_packer *pk, const agg_t *a) {
    vd_pack_cstr(pk, "latency_us");
    msgpack_pack_map(pk, 3);
    const double qs[] = {0.5, 0.9, 0.99};
    const char *names[] = {"p50", "p90", "p99"};
    for (int i = 0; i < 3; i++) {
        vd_pack_cstr(pk, names[i]);
        msgpack_pack_double(pk, quantile_us(a->hist, a->count, qs[i]));
    }
}

static void pack_pipeline(msgpack_packer *pk, const agg_t *aggs, size_t n, const agg_t *p) {
    size_t nstages = 0;
    for (size_t i = 0; i < n; i++)
        nstages += *aggs[i].stage && strcmp(aggs[i].pipeline, p->pipeline) == 0;
    vd_pack_cstr(pk, p->pipeline);
    msgpack_pack_map(pk, 5);
    pack_u64(pk, "requests", p->count);
    pack_u64(pk, "errors", p->errors);
    pack_latency(pk, p);
    vd_pack_cstr(pk, "actions");
    msgpack_pack_map(pk, (size_t)p->nactions);
    for (int i = 0; i < p->nactions; i++)
        pack_u64(pk, p->action_names[i], p->action_counts[i]);
    vd_pack_cstr(pk, "stages");
    msgpack_pack_map(pk, nstages);
    for (size_t i = 0; i < n; i++) {
        const agg_t *s = &aggs[i];
        if (!*s->stage || strcmp(s->pipeline, p->pipeline) != 0) continue;
        vd_pack_cstr(pk, s->stage);
        msgpack_pack_map(pk, 4);
        pack_u64(pk, "runs", s->count);
        pack_u64(pk, "faults", s->errors);
        pack_u64(pk, "fired", s->fired);
        pack_latency(pk, s);
    }
}

void vd_stats_pack(msgpack_packer *pk, vd_stats_t *const *sets, int nsets,
                   const vd_stats_globals_t *g) {
    uint64_t sum[4 + VD_RPC__ERR_COUNT + 4] = {0};
    uint64_t errors_total = 0;
    for (int w = 0; w < nsets; w++) {
        vd_stats_t *s = sets[w];
        sum[0] += vd_counter_get(&s->requests);
        sum[1] += vd_counter_get(&s->decisions);
        sum[2] += vd_counter_get(&s->notifications);
        sum[3] += vd_counter_get(&s->conns_total);
        sum[4] += vd_counter_get(&s->conns_open);
        sum[5] += vd_counter_get(&s->bytes_in);
        sum[6] += vd_counter_get(&s->bytes_out);
        for (int e = 0; e < VD_RPC__ERR_COUNT; e++)
            sum[7 + e] += vd_counter_get(&s->errors[e]);
    }
    for (int e = 0; e < VD_RPC__ERR_COUNT; e++)
        errors_total += sum[7 + e];
    size_t n = 0;
    agg_t *aggs = aggregate(sets, nsets, &n);
    size_t npipes = 0;
    for (size_t i = 0; aggs && i < n; i++)
        npipes += !*aggs[i].stage;

    msgpack_pack_map(pk, 15);
    pack_u64(pk, "workers", (uint64_t)g->workers);
    pack_u64(pk, "requests", sum[0]);
    pack_u64(pk, "decisions", sum[1]);
    pack_u64(pk, "notifications", sum[2]);
    pack_u64(pk, "errors", errors_total);
    vd_pack_cstr(pk, "errors_by_code");
    msgpack_pack_map(pk, VD_RPC__ERR_COUNT);
    for (int e = 0; e < VD_RPC__ERR_COUNT; e++)
        pack_u64(pk, vd_rpc_err_name(e), sum[7 + e]);
    pack_u64(pk, "connections_total", sum[3]);
    pack_u64(pk, "connections_open", sum[4]);
    pack_u64(pk, "bytes_in", sum[5]);
    pack_u64(pk, "bytes_out", sum[6]);
    vd_pack_cstr(pk, "policy");
    vd_pack_cstr(pk, g->policy);
    pack_u64(pk, "reloads", g->reloads);
    pack_u64(pk, "reload_failures", g->reload_failures);
    vd_pack_cstr(pk, "uptime_s");
    msgpack_pack_double(pk, g->uptime_s);
    vd_pack_cstr(pk, "pipelines");
    msgpack_pack_map(pk, npipes);
    for (size_t i = 0; aggs && i < n; i++)
        if (!*aggs[i].stage) pack_pipeline(pk, aggs, n, &aggs[i]);
    free(aggs);
}
