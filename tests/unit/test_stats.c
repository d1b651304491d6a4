/* The per-worker figures: rules and shadow pairs summed over workers, the sampling of rule
 * times, the tick counter's conversion to time, and the limit of fault log lines. */
#include "base/clock.h"
#include "base/log.h"
#include "base/stats.h"
#include "vd_test.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

static const vd_rule_agg_t *find_rule(const vd_stats_aggs_t *a, const char *stage,
                                      const char *rule) {
    for (size_t i = 0; i < a->nrules; i++)
        if (strcmp(a->rules[i].stage, stage) == 0 && strcmp(a->rules[i].rule, rule) == 0)
            return &a->rules[i];
    return NULL;
}

/* Two workers that bound their rules in different orders: each rule is summed once. */
static void test_rules_summed_over_workers(void) {
    vd_stat_nodes_t w1, w2;
    vd_stat_nodes_init(&w1);
    vd_stat_nodes_init(&w2);
    vd_stat_node_t *s1 = vd_stats_node(&w1, "p", "s"), *s2 = vd_stats_node(&w2, "p", "s");
    vd_stat_node_t *t2 = vd_stats_node(&w2, "p", "trial");
    atomic_store(&t2->shadow, 1);
    vd_rule_stat_t *a1 = vd_stats_rule(&w1, s1, "a"), *b1 = vd_stats_rule(&w1, s1, "b");
    vd_rule_stat_t *b2 = vd_stats_rule(&w2, s2, "b"), *a2 = vd_stats_rule(&w2, s2, "a");
    vd_rule_stat_t *x2 = vd_stats_rule(&w2, t2, "a"); /* the same name in another stage */
    CU_ASSERT_FATAL(a1 && b1 && a2 && b2 && x2);
    CU_ASSERT_PTR_EQUAL(vd_stats_rule(&w1, s1, "a"), a1); /* found again, as after a reload */
    vd_counter_add(&a1->runs, 3);
    vd_counter_add(&a1->fired, 2);
    vd_counter_add(&a2->runs, 4);
    vd_counter_add(&a2->faults, 1);
    vd_counter_add(&b2->runs, 5);
    vd_counter_add(&x2->runs, 7);
    vd_stat_nodes_t *sets[] = {&w1, &w2};
    vd_stats_aggs_t agg;
    CU_ASSERT_EQUAL_FATAL(vd_stats_aggs_sum(sets, 2, &agg), 0);
    CU_ASSERT_EQUAL(agg.nrules, 3);
    const vd_rule_agg_t *a = find_rule(&agg, "s", "a"), *b = find_rule(&agg, "s", "b"),
                        *x = find_rule(&agg, "trial", "a");
    CU_ASSERT_FATAL(a && b && x);
    CU_ASSERT_STRING_EQUAL(a->pipeline, "p");
    CU_ASSERT(a->runs == 7 && a->fired == 2 && a->faults == 1 && !a->shadow);
    CU_ASSERT(b->runs == 5 && b->fired == 0);
    CU_ASSERT(x->runs == 7 && x->shadow);
    vd_stats_aggs_free(&agg);
    vd_stat_nodes_close(&w1);
    vd_stat_nodes_close(&w2);
}

static const vd_pair_agg_t *find_pair(const vd_stats_agg_t *a, const char *live,
                                      const char *shadow) {
    for (int i = 0; i < a->npairs; i++)
        if (strcmp(a->pairs[i].live, live) == 0 && strcmp(a->pairs[i].shadow, shadow) == 0)
            return &a->pairs[i];
    return NULL;
}

/* Agreements count as shadow decisions only; pairs past the table count in the totals. */
static void test_shadow_pairs(void) {
    vd_stat_nodes_t w1, w2;
    vd_stat_nodes_init(&w1);
    vd_stat_nodes_init(&w2);
    vd_stat_node_t *p1 = vd_stats_node(&w1, "p", ""), *p2 = vd_stats_node(&w2, "p", "");
    vd_stats_count_shadow(p1, "allow", "allow");
    vd_stats_count_shadow(p1, "allow", "block");
    vd_stats_count_shadow(p1, "challenge", "allow");
    vd_stats_count_shadow(p2, "allow", "block");
    vd_stats_count_shadow(p2, "allow", "block");
    char live[16], shadow[16];
    int more = VD_STAT_PAIRS + 3; /* fills the table, and five pairs are not itemised */
    for (int i = 0; i < more; i++) {
        snprintf(live, sizeof live, "l%d", i);
        snprintf(shadow, sizeof shadow, "s%d", i);
        vd_stats_count_shadow(p1, live, shadow);
    }
    vd_stat_nodes_t *sets[] = {&w1, &w2};
    vd_stats_aggs_t agg;
    CU_ASSERT_EQUAL_FATAL(vd_stats_aggs_sum(sets, 2, &agg), 0);
    CU_ASSERT_EQUAL_FATAL(agg.nnodes, 1);
    const vd_stats_agg_t *p = &agg.nodes[0];
    CU_ASSERT_EQUAL(p->shadow_runs, 5 + more);
    CU_ASSERT_EQUAL(p->shadow_diffs, 4 + more);
    CU_ASSERT_EQUAL(p->npairs, VD_STAT_PAIRS);
    const vd_pair_agg_t *ab = find_pair(p, "allow", "block");
    const vd_pair_agg_t *ca = find_pair(p, "challenge", "allow");
    CU_ASSERT_PTR_NOT_NULL_FATAL(ab);
    CU_ASSERT_PTR_NOT_NULL_FATAL(ca);
    CU_ASSERT_EQUAL(ab->count, 3);
    CU_ASSERT_EQUAL(ca->count, 1);
    CU_ASSERT_PTR_NULL(find_pair(p, "allow", "allow"));
    CU_ASSERT_PTR_NULL(find_pair(p, "l34", "s34"));
    vd_stats_aggs_free(&agg);
    vd_stat_nodes_close(&w1);
    vd_stat_nodes_close(&w2);
}

/* The rules of every decision are timed at first, then those of one decision in
 * VD_RULE_TIME_EVERY, standing for that many: the weights add up to the decisions. */
static void test_rule_time_sampling(void) {
    vd_stat_node_t pl;
    memset(&pl, 0, sizeof pl);
    uint64_t total = 0, timed = 0;
    for (int i = 0; i < 1024; i++) {
        uint64_t w = vd_stats_time_weight(&pl);
        if (i < VD_RULE_TIME_FIRST) CU_ASSERT_EQUAL(w, 1);
        total += w;
        timed += w != 0;
        vd_counter_add(&pl.count, 1);
    }
    CU_ASSERT_EQUAL(total, 1024);
    CU_ASSERT_EQUAL(timed, VD_RULE_TIME_FIRST + (1024 - VD_RULE_TIME_FIRST) / VD_RULE_TIME_EVERY);
}

/* Ticks over a 20 ms sleep convert to about 20 ms. */
static void test_ticks_to_time(void) {
    vd_tick_origin_t o;
    vd_tick_origin_init(&o);
    uint64_t t0 = vd_ticks();
    int64_t n0 = vd_now_ns();
    struct timespec ts = {0, 20L * 1000000};
    nanosleep(&ts, NULL);
    double ns = (double)(vd_ticks() - t0) * vd_tick_ns(&o);
    double want = (double)(vd_now_ns() - n0);
    CU_ASSERT(ns > want * 0.95 && ns < want * 1.05);
}

/* A rule's fault log: the first fault at once, then one line a minute with the count since. */
static void test_fault_log_limit(void) {
    vd_log_limit_t l = {0};
    const int64_t minute = 60 * (int64_t)1000000000;
    unsigned long long skipped = 99;
    CU_ASSERT(vd_log_limit_pass(&l, minute, 5, &skipped) && skipped == 0);
    for (int i = 1; i <= 10; i++)
        CU_ASSERT(!vd_log_limit_pass(&l, minute, 5 + i * (minute / 20), &skipped));
    CU_ASSERT(vd_log_limit_pass(&l, minute, 5 + minute, &skipped) && skipped == 10);
    CU_ASSERT(!vd_log_limit_pass(&l, minute, 6 + minute, &skipped));
}

void vd_suite_stats(void) {
    static const vd_test_t tests[] = {{"rules summed over workers", test_rules_summed_over_workers},
                                      {"shadow action pairs", test_shadow_pairs},
                                      {"rule time sampling", test_rule_time_sampling},
                                      {"ticks to time", test_ticks_to_time},
                                      {"fault log limit", test_fault_log_limit},
                                      {NULL, NULL}};
    vd_add_suite("stats", tests);
}
