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
}

void vd_stat_nodes_close(vd_stat_nodes_t *s) {
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
}

int vd_stats_aggs_sum(vd_stat_nodes_t *const *sets, int nsets, vd_stats_aggs_t *out) {
    memset(out, 0, sizeof *out);
    size_t cap = 0;
    for (int w = 0; w < nsets; w++) {
        vd_stat_node_t *n = atomic_load_explicit(&sets[w]->head, memory_order_acquire);
        for (; n; n = atomic_load_explicit(&n->next, memory_order_acquire)) {
            vd_stats_agg_t *a = find_or_add(out, &cap, n);
            if (!a) return -1;
            add_node(a, n);
        }
    }
    return 0;
}

void vd_stats_aggs_free(vd_stats_aggs_t *s) {
    free(s->nodes);
    s->nodes = NULL;
    s->nnodes = 0;
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
