#include "stats.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

void vd_hist_add(vd_hist_t *h, int64_t ns) {
    int i = ns <= 1 ? 0 : (int)(log2((double)ns) * 4.0);
    if (i >= VD_HIST_BUCKETS) i = VD_HIST_BUCKETS - 1;
    vd_counter_add(&h->b[i], 1);
    vd_counter_add(&h->sum_ns, ns > 0 ? (uint64_t)ns : 0);
}

double vd_hist_bucket_upper_ns(int bucket) {
    return pow(2.0, (bucket + 1) / 4.0);
}

void vd_stat_nodes_init(vd_stat_nodes_t *s) {
    atomic_init(&s->head, NULL);
    atomic_init(&s->rules, NULL);
    vd_tick_origin_init(&s->origin);
}

void vd_stat_nodes_close(vd_stat_nodes_t *s) {
    vd_stat_node_t *n = atomic_load(&s->head);
    while (n) {
        vd_stat_node_t *next = atomic_load(&n->next);
        free(n);
        n = next;
    }
    atomic_store(&s->head, NULL);
    vd_rule_stat_t *r = atomic_load(&s->rules);
    while (r) {
        vd_rule_stat_t *next = atomic_load(&r->next);
        free(r);
        r = next;
    }
    atomic_store(&s->rules, NULL);
}

static void copy_name(char *dst, size_t cap, const char *src) {
    strncpy(dst, src, cap - 1);
    dst[cap - 1] = '\0';
}

vd_stat_node_t *vd_stats_node(vd_stat_nodes_t *s, const char *pipeline, const char *stage) {
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

void vd_stats_count_shadow(vd_stat_node_t *n, const char *live, const char *shadow) {
    vd_counter_add(&n->shadow_runs, 1);
    if (live == shadow || strcmp(live, shadow) == 0) return; /* mostly the same policy string */
    vd_counter_add(&n->shadow_diffs, 1);
    int k = atomic_load_explicit(&n->npairs, memory_order_relaxed);
    for (int i = 0; i < k; i++) {
        if (strcmp(n->pairs[i].live, live) == 0 && strcmp(n->pairs[i].shadow, shadow) == 0) {
            vd_counter_add(&n->pairs[i].count, 1);
            return;
        }
    }
    if (k == VD_STAT_PAIRS) return; /* not itemised: counted in shadow_diffs */
    copy_name(n->pairs[k].live, sizeof n->pairs[k].live, live);
    copy_name(n->pairs[k].shadow, sizeof n->pairs[k].shadow, shadow);
    vd_counter_add(&n->pairs[k].count, 1);
    atomic_store_explicit(&n->npairs, k + 1, memory_order_release);
}

vd_rule_stat_t *vd_stats_rule(vd_stat_nodes_t *s, vd_stat_node_t *stage, const char *rule) {
    vd_rule_stat_t *last = NULL;
    for (vd_rule_stat_t *r = atomic_load(&s->rules); r; r = atomic_load(&r->next)) {
        if (r->stage == stage && strncmp(r->rule, rule, sizeof r->rule - 1) == 0) return r;
        last = r;
    }
    vd_rule_stat_t *r = calloc(1, sizeof *r);
    if (!r) return NULL;
    r->stage = stage;
    copy_name(r->rule, sizeof r->rule, rule);
    /* Release: readers that see the node also see its name. */
    if (last)
        atomic_store_explicit(&last->next, r, memory_order_release);
    else
        atomic_store_explicit(&s->rules, r, memory_order_release);
    return r;
}

/* ---- snapshots: every worker's sets summed ---- */

static void merge_actions(vd_stats_agg_t *a, vd_stat_node_t *n) {
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

static void merge_pairs(vd_stats_agg_t *a, vd_stat_node_t *n) {
    int k = atomic_load_explicit(&n->npairs, memory_order_acquire);
    for (int i = 0; i < k; i++) {
        const vd_stat_pair_t *p = &n->pairs[i];
        int j = 0;
        while (j < a->npairs && (strcmp(a->pairs[j].live, p->live) != 0 ||
                                 strcmp(a->pairs[j].shadow, p->shadow) != 0))
            j++;
        if (j == a->npairs) {
            if (j == VD_STAT_PAIRS) continue;
            a->pairs[a->npairs++] = (vd_pair_agg_t){p->live, p->shadow, 0};
        }
        a->pairs[j].count += vd_counter_get(&n->pairs[i].count);
    }
}

static vd_stats_agg_t *find_or_add(vd_stats_aggs_t *s, size_t *cap, const vd_stat_node_t *n) {
    for (size_t i = 0; i < s->nnodes; i++)
        if (strcmp(s->nodes[i].pipeline, n->pipeline) == 0 &&
            strcmp(s->nodes[i].stage, n->stage) == 0)
            return &s->nodes[i];
    if (s->nnodes == *cap) {
        size_t more = *cap ? *cap * 2 : 16;
        vd_stats_agg_t *nodes = realloc(s->nodes, more * sizeof *nodes);
        if (!nodes) return NULL;
        s->nodes = nodes;
        *cap = more;
    }
    vd_stats_agg_t *a = &s->nodes[s->nnodes++];
    memset(a, 0, sizeof *a);
    a->pipeline = n->pipeline;
    a->stage = n->stage;
    return a;
}

static void add_node(vd_stats_agg_t *a, vd_stat_node_t *n) {
    a->count += vd_counter_get(&n->count);
    a->errors += vd_counter_get(&n->errors);
    a->fired += vd_counter_get(&n->fired);
    a->timeouts += vd_counter_get(&n->timeouts);
    a->invalid += vd_counter_get(&n->invalid);
    a->sum_ns += vd_counter_get(&n->latency.sum_ns);
    for (int b = 0; b < VD_HIST_BUCKETS; b++)
        a->hist[b] += vd_counter_get(&n->latency.b[b]);
    merge_actions(a, n);
    a->shadow |= atomic_load_explicit(&n->shadow, memory_order_relaxed);
    a->shadow_runs += vd_counter_get(&n->shadow_runs);
    a->shadow_diffs += vd_counter_get(&n->shadow_diffs);
    merge_pairs(a, n);
}

static int same_rule(const vd_rule_agg_t *a, const vd_rule_stat_t *r) {
    return strcmp(a->rule, r->rule) == 0 && strcmp(a->stage, r->stage->stage) == 0 &&
           strcmp(a->pipeline, r->stage->pipeline) == 0;
}

/* The sum of rule r, found or added. Workers bind the same policies in the same order, so a
 * worker's k-th rule is mostly the sum's k-th too: looked at first, it keeps summing linear. */
static vd_rule_agg_t *find_or_add_rule(vd_stats_aggs_t *s, size_t *cap, size_t k,
                                       const vd_rule_stat_t *r) {
    if (k < s->nrules && same_rule(&s->rules[k], r)) return &s->rules[k];
    for (size_t i = 0; i < s->nrules; i++)
        if (same_rule(&s->rules[i], r)) return &s->rules[i];
    if (s->nrules == *cap) {
        size_t more = *cap ? *cap * 2 : 32;
        vd_rule_agg_t *rules = realloc(s->rules, more * sizeof *rules);
        if (!rules) return NULL;
        s->rules = rules;
        *cap = more;
    }
    vd_rule_agg_t *a = &s->rules[s->nrules++];
    *a = (vd_rule_agg_t){.pipeline = r->stage->pipeline, .stage = r->stage->stage, .rule = r->rule};
    return a;
}

static int sum_rules(vd_stat_nodes_t *set, vd_stats_aggs_t *out, size_t *cap) {
    double ns_per_tick = vd_tick_ns(&set->origin);
    vd_rule_stat_t *r = atomic_load_explicit(&set->rules, memory_order_acquire);
    for (size_t k = 0; r; r = atomic_load_explicit(&r->next, memory_order_acquire), k++) {
        vd_rule_agg_t *a = find_or_add_rule(out, cap, k, r);
        if (!a) return -1;
        a->shadow |= atomic_load_explicit(&r->stage->shadow, memory_order_relaxed);
        a->runs += vd_counter_get(&r->runs);
        a->fired += vd_counter_get(&r->fired);
        a->faults += vd_counter_get(&r->faults);
        a->seconds += (double)vd_counter_get(&r->ticks) * ns_per_tick / 1e9;
    }
    return 0;
}

int vd_stats_aggs_sum(vd_stat_nodes_t *const *sets, int nsets, vd_stats_aggs_t *out) {
    memset(out, 0, sizeof *out);
    size_t cap = 0, rules_cap = 0;
    for (int w = 0; w < nsets; w++) {
        vd_stat_node_t *n = atomic_load_explicit(&sets[w]->head, memory_order_acquire);
        for (; n; n = atomic_load_explicit(&n->next, memory_order_acquire)) {
            vd_stats_agg_t *a = find_or_add(out, &cap, n);
            if (!a) return -1;
            add_node(a, n);
        }
        if (sum_rules(sets[w], out, &rules_cap) != 0) return -1;
    }
    return 0;
}

void vd_stats_aggs_free(vd_stats_aggs_t *s) {
    free(s->nodes);
    free(s->rules);
    s->nodes = NULL;
    s->rules = NULL;
    s->nnodes = s->nrules = 0;
}

double vd_stats_quantile_us(const vd_stats_agg_t *a, double q) {
    if (a->count == 0) return 0;
    uint64_t rank = (uint64_t)ceil(q * (double)a->count), seen = 0;
    for (int b = 0; b < VD_HIST_BUCKETS; b++) {
        seen += a->hist[b];
        if (seen >= rank && a->hist[b]) return pow(2.0, (b + 0.5) / 4.0) / 1000.0;
    }
    return 0;
}
