/* Counters, latency histograms and the per-pipeline, per-stage and per-rule figures. Each
 * worker owns its own and is their only writer, so the request path never shares a cache line
 * or takes a lock; a stats request sums every worker's with relaxed atomic reads. */
#ifndef VD_STATS_H
#define VD_STATS_H

#include "clock.h"
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
/* Pairs of actions (live, shadow) a pipeline itemises; more distinct pairs than this (a
 * pipeline with more than six actions) are counted in shadow_diffs only. */
#define VD_STAT_PAIRS 32

/* Decisions whose shadow action differed from the live one, for one pair of actions. */
typedef struct vd_stat_pair {
    char live[32], shadow[32];
    vd_counter_t count;
} vd_stat_pair_t;

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
    /* Pipelines: decisions that ran a shadow stage, those whose shadow action differed from the
     * live one, and those per pair (names written before npairs is published). */
    vd_counter_t shadow_runs, shadow_diffs;
    vd_stat_pair_t pairs[VD_STAT_PAIRS];
    _Atomic int npairs;
    _Atomic int shadow;       /* stages: a shadow stage (in the latest policy that had it) */
    vd_log_limit_t fault_log; /* stages: faults logged at most once a minute (owning worker) */
} vd_stat_node_t;

/* The rules of a pipeline's first VD_RULE_TIME_FIRST decisions (in each worker) are timed, then
 * those of one decision in VD_RULE_TIME_EVERY (a power of two), whose times count for that many.
 * Reading even the tick counter after every rule of every decision would cost a few percent of
 * a decision of twenty rules (about 20 ns a read on the reference machine, against 0.5 us a
 * rule); one decision in sixteen costs a few tenths of a percent, and the estimate is close
 * once a rule has run a few hundred times. The first decisions are all timed so that a rule
 * that ran three times does not show sixteen times its time. Choosing whole decisions rather
 * than runs of each rule keeps the request path to one test per rule. */
#define VD_RULE_TIME_FIRST 64
#define VD_RULE_TIME_EVERY 16

/* Stats of one rule in one stage of one pipeline, in one worker; appended and never freed
 * before the worker, like stage nodes, so a rule keeps its figures across reloads as long as
 * its pipeline, stage and name stay. */
typedef struct vd_rule_stat {
    vd_counter_t runs, fired, faults;
    vd_counter_t ticks;       /* the estimated ticks (vd_ticks) of all runs, from the timed ones */
    vd_log_limit_t fault_log; /* faults logged at most once a minute (owning worker) */
    vd_stat_node_t *stage;    /* its stage's node: the pipeline's and stage's names */
    struct vd_rule_stat *_Atomic next;
    char rule[96];
} vd_rule_stat_t;

/* A worker's nodes, appended and never freed before the worker. */
typedef struct vd_stat_nodes {
    vd_stat_node_t *_Atomic head;
    vd_rule_stat_t *_Atomic rules;
    vd_tick_origin_t origin; /* turns its rules' ticks into time */
} vd_stat_nodes_t;

void vd_stat_nodes_init(vd_stat_nodes_t *s);
void vd_stat_nodes_close(vd_stat_nodes_t *s);

/* Finds or appends the node for (pipeline, stage); stage "" for the pipeline itself.
 * Owner thread only. Returns NULL when out of memory. */
vd_stat_node_t *vd_stats_node(vd_stat_nodes_t *s, const char *pipeline, const char *stage);

/* Counts a decision with the given action on a pipeline node. Owner thread only. */
void vd_stats_count_action(vd_stat_node_t *n, const char *action);

/* Counts a decision that ran a shadow stage on a pipeline node: its live action and what the
 * shadow stages would have decided. Owner thread only. */
void vd_stats_count_shadow(vd_stat_node_t *n, const char *live, const char *shadow);

/* Finds or appends the node of rule in the stage node stage (from vd_stats_node). Owner thread
 * only. Returns NULL when out of memory. */
vd_rule_stat_t *vd_stats_rule(vd_stat_nodes_t *s, vd_stat_node_t *stage, const char *rule);

/* For a decision that starts on pipeline node pl: how many runs the time of each of its rules
 * stands for, or 0 when its rules are not timed. */
static inline uint64_t vd_stats_time_weight(vd_stat_node_t *pl) {
    uint64_t decisions = vd_counter_get(&pl->count);
    if (decisions < VD_RULE_TIME_FIRST) return 1;
    return (decisions & (VD_RULE_TIME_EVERY - 1)) == 0 ? VD_RULE_TIME_EVERY : 0;
}

/* A pair of actions summed over the workers. */
typedef struct vd_pair_agg {
    const char *live, *shadow;
    uint64_t count;
} vd_pair_agg_t;

/* One pipeline or stage, summed over the workers. Names borrow from the worker nodes,
 * which live as long as the engine. */
typedef struct vd_stats_agg {
    const char *pipeline, *stage;
    int shadow; /* stages */
    uint64_t count, errors, fired, timeouts, invalid, sum_ns;
    uint64_t hist[VD_HIST_BUCKETS];
    const char *action_names[VD_STAT_ACTIONS];
    uint64_t action_counts[VD_STAT_ACTIONS];
    int nactions;
    uint64_t shadow_runs, shadow_diffs; /* pipelines */
    vd_pair_agg_t pairs[VD_STAT_PAIRS];
    int npairs;
} vd_stats_agg_t;

/* One rule of one stage, summed over the workers. */
typedef struct vd_rule_agg {
    const char *pipeline, *stage, *rule;
    int shadow; /* of its stage */
    uint64_t runs, fired, faults;
    double seconds; /* estimated from the timed runs (VD_RULE_TIME_FIRST, _EVERY) */
} vd_rule_agg_t;

/* The nodes of several workers summed at one moment (each counter read once, relaxed). */
typedef struct vd_stats_aggs {
    vd_stats_agg_t *nodes; /* pipelines (stage "") and stages */
    size_t nnodes;
    vd_rule_agg_t *rules;
    size_t nrules;
} vd_stats_aggs_t;

/* Sums the workers' nodes (pipelines, stages and rules) into out. Returns 0, or -1 when out
 * of memory (out is then partial but safe to free). Call vd_stats_aggs_free afterwards. */
int vd_stats_aggs_sum(vd_stat_nodes_t *const *sets, int nsets, vd_stats_aggs_t *out);
void vd_stats_aggs_free(vd_stats_aggs_t *s);

/* Latency at quantile q (0..1) in microseconds, from the histogram (bucket midpoint). */
double vd_stats_quantile_us(const vd_stats_agg_t *a, double q);

#endif
