/* Counters, latency histograms and the per-pipeline and per-stage figures. Each worker owns
 * its own and is their only writer, so the request path never shares a cache line or takes a
 * lock; a stats request sums every worker's with relaxed atomic reads. */
#ifndef VD_STATS_H
#define VD_STATS_H

#include "log.h"

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

typedef _Atomic uint64_t vd_counter_t;

/* Adds n; only the owning thread may call it (no read-modify-write lock needed). */
static inline void vd_counter_add(vd_counter_t *c, uint64_t n) {
    atomic_store_explicit(c, atomic_load_explicit(c, memory_order_relaxed) + n,
                          memory_order_relaxed);
}

/* Sets a gauge (a counter that also goes down) that other threads read; owning thread only. */
static inline void vd_gauge_set(vd_counter_t *c, uint64_t v) {
    atomic_store_explicit(c, v, memory_order_relaxed);
}

static inline uint64_t vd_counter_get(vd_counter_t *c) {
    return atomic_load_explicit(c, memory_order_relaxed);
}

/* Log-scale latency buckets: four per power of two of nanoseconds. */
#define VD_HIST_BUCKETS 160

typedef struct vd_hist {
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
    vd_counter_t timeouts; /* plugin calls past their deadline, rule stages past timeout_ms (also
                              errors) */
    vd_counter_t invalid;  /* pipelines: events refused by the pipeline's fields */
    vd_hist_t latency;
    /* Pipelines: decisions per action. Names are written before nactions is published. */
    char action_names[VD_STAT_ACTIONS][32];
    vd_counter_t action_counts[VD_STAT_ACTIONS];
    _Atomic int nactions;
    vd_log_limit_t fault_log; /* stages: faults logged at most once a minute (owning worker) */
} vd_stat_node_t;

/* A worker's nodes, appended and never freed before the worker. */
typedef struct vd_stat_nodes {
    vd_stat_node_t *_Atomic head;
} vd_stat_nodes_t;

void vd_stat_nodes_init(vd_stat_nodes_t *s);
void vd_stat_nodes_close(vd_stat_nodes_t *s);

/* Finds or appends the node for (pipeline, stage); stage "" for the pipeline itself.
 * Owner thread only. Returns NULL when out of memory. */
vd_stat_node_t *vd_stats_node(vd_stat_nodes_t *s, const char *pipeline, const char *stage);

/* Counts a decision with the given action on a pipeline node. Owner thread only. */
void vd_stats_count_action(vd_stat_node_t *n, const char *action);

/* One pipeline or stage, summed over the workers. Names borrow from the worker nodes,
 * which live as long as the engine. */
typedef struct vd_stats_agg {
    const char *pipeline, *stage;
    uint64_t count, errors, fired, timeouts, invalid, sum_ns;
    uint64_t hist[VD_HIST_BUCKETS];
    const char *action_names[VD_STAT_ACTIONS];
    uint64_t action_counts[VD_STAT_ACTIONS];
    int nactions;
} vd_stats_agg_t;

/* The nodes of several workers summed at one moment (each counter read once, relaxed). */
typedef struct vd_stats_aggs {
    vd_stats_agg_t *nodes; /* pipelines (stage "") and stages */
    size_t nnodes;
} vd_stats_aggs_t;

/* Sums the workers' nodes into out. Returns 0, or -1 when out of memory (out is then partial
 * but safe to free). Call vd_stats_aggs_free afterwards. */
int vd_stats_aggs_sum(vd_stat_nodes_t *const *sets, int nsets, vd_stats_aggs_t *out);
void vd_stats_aggs_free(vd_stats_aggs_t *s);

/* Latency at quantile q (0..1) in microseconds, from the histogram (bucket midpoint). */
double vd_stats_quantile_us(const vd_stats_agg_t *a, double q);

#endif
