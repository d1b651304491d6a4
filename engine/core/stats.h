/* Counters and latency histograms. Each worker owns its own set and is their only writer,
 * so the request path never shares a cache line or takes a lock; a stats request sums every
 * worker's set with relaxed atomic reads. */
#ifndef VD_STATS_H
#define VD_STATS_H

#include "../proto/rpc.h"

#include <stdatomic.h>
#include <stdint.h>

typedef _Atomic uint64_t vd_counter_t;

/* Adds n; only the owning thread may call it (no read-modify-write lock needed). */
static inline void vd_counter_add(vd_counter_t *c, uint64_t n) {
    atomic_store_explicit(c, atomic_load_explicit(c, memory_order_relaxed) + n,
                          memory_order_relaxed);
}

static inline uint64_t vd_counter_get(vd_counter_t *c) {
    return atomic_load_explicit(c, memory_order_relaxed);
}

/* Log-scale latency buckets: four per power of two of nanoseconds. */
#define VD_HIST_BUCKETS 160

typedef struct {
    vd_counter_t b[VD_HIST_BUCKETS];
    vd_counter_t sum_ns;
} vd_hist_t;

void vd_hist_add(vd_hist_t *h, int64_t ns);

/* The upper bound of a histogram bucket, in nanoseconds. */
double vd_hist_bucket_upper_ns(int bucket);

#define VD_STAT_ACTIONS 16

/* Stats of one pipeline (stage == "") or one stage of a pipeline, in one worker. Nodes are
 * appended and never freed before the worker, so a reload keeps the history. */
typedef struct vd_stat_node {
    struct vd_stat_node *_Atomic next;
    char pipeline[96], stage[96];
    vd_counter_t count, errors, fired;
    vd_counter_t timeouts; /* plugin stages: calls that missed their deadline (also errors) */
    vd_hist_t latency;
    /* Pipelines: decisions per action. Names are written before nactions is published. */
    char action_names[VD_STAT_ACTIONS][32];
    vd_counter_t action_counts[VD_STAT_ACTIONS];
    _Atomic int nactions;
} vd_stat_node_t;

typedef struct {
    vd_counter_t requests, decisions, notifications;
    vd_counter_t errors[VD_RPC__ERR_COUNT];
    vd_counter_t conns_total, conns_open, bytes_in, bytes_out;
    vd_stat_node_t *_Atomic head;
} vd_stats_t;

void vd_stats_init(vd_stats_t *s);
void vd_stats_close(vd_stats_t *s);

/* Finds or appends the node for (pipeline, stage); stage "" for the pipeline itself.
 * Owner thread only. Returns NULL when out of memory. */
vd_stat_node_t *vd_stats_node(vd_stats_t *s, const char *pipeline, const char *stage);

/* Counts a decision with the given action on a pipeline node. Owner thread only. */
void vd_stats_count_action(vd_stat_node_t *n, const char *action);

/* One pipeline or stage, summed over the workers. Names borrow from the worker nodes,
 * which live as long as the engine. */
typedef struct {
    const char *pipeline, *stage;
    uint64_t count, errors, fired, timeouts, sum_ns;
    uint64_t hist[VD_HIST_BUCKETS];
    const char *action_names[VD_STAT_ACTIONS];
    uint64_t action_counts[VD_STAT_ACTIONS];
    int nactions;
} vd_stats_agg_t;

/* Every worker's counters summed at one moment (each counter read once, relaxed). */
typedef struct {
    uint64_t requests, decisions, notifications, errors_total;
    uint64_t errors[VD_RPC__ERR_COUNT];
    uint64_t conns_total, conns_open, bytes_in, bytes_out;
    vd_stats_agg_t *nodes; /* pipelines (stage "") and stages */
    size_t nnodes;
} vd_stats_snapshot_t;

/* Sums the worker sets into out. Returns 0, or -1 when out of memory (out is then partial
 * but safe to free). Call vd_stats_snapshot_free afterwards. */
int vd_stats_snapshot(vd_stats_t *const *sets, int nsets, vd_stats_snapshot_t *out);
void vd_stats_snapshot_free(vd_stats_snapshot_t *s);

/* Latency at quantile q (0..1) in microseconds, from the histogram (bucket midpoint). */
double vd_stats_quantile_us(const vd_stats_agg_t *a, double q);

/* Whole-process figures that are not per worker, supplied by the engine. */
typedef struct {
    const char *policy;
    uint64_t reloads, reload_failures;
    double uptime_s;
    int workers;
    /* More map entries from the caller: nextra keys, packed by pack_extra(pk, extra_ctx). */
    int nextra;
    void (*pack_extra)(msgpack_packer *pk, const void *extra_ctx);
    const void *extra_ctx;
} vd_stats_globals_t;

/* Packs the stats map of the stats method (docs/protocol.md). */
void vd_stats_pack(msgpack_packer *pk, const vd_stats_snapshot_t *s, const vd_stats_globals_t *g);

#endif
