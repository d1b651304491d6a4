#include "prometheus.h"

#include "state/list.h"

#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct buf {
    char *data;
    size_t len, cap;
    int failed;
} buf_t;

static void put(buf_t *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void put(buf_t *b, const char *fmt, ...) {
    for (;;) {
        va_list ap;
        va_start(ap, fmt);
        int n = b->failed ? -1 : vsnprintf(b->data + b->len, b->cap - b->len, fmt, ap);
        va_end(ap);
        if (n < 0) {
            b->failed = 1;
            return;
        }
        if ((size_t)n < b->cap - b->len) {
            b->len += (size_t)n;
            return;
        }
        size_t cap = (b->cap + (size_t)n + 1) * 2;
        char *data = realloc(b->data, cap);
        if (!data) {
            b->failed = 1;
            return;
        }
        b->data = data;
        b->cap = cap;
    }
}

/* Label values may hold any byte of a policy name: escape as the format asks. */
static const char *esc(const char *s, char *out, size_t cap) {
    size_t o = 0;
    for (; *s && o + 3 < cap; s++) {
        if (*s == '\\' || *s == '"')
            out[o++] = '\\', out[o++] = *s;
        else if (*s == '\n')
            out[o++] = '\\', out[o++] = 'n';
        else
            out[o++] = *s;
    }
    out[o] = '\0';
    return out;
}

static void family(buf_t *b, const char *name, const char *type, const char *help) {
    put(b, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

/* Latency histogram with fixed bounds in seconds, summed from the log-scale buckets. */
static void histogram(buf_t *b, const char *name, const char *labels, const vd_stats_agg_t *a) {
    static const double bounds_us[] = {10,   25,    50,    100,   250,    500,    1000,   2500,
                                       5000, 10000, 25000, 50000, 100000, 250000, 1000000};
    int bucket = 0;
    uint64_t cumulative = 0;
    for (size_t i = 0; i < sizeof bounds_us / sizeof *bounds_us; i++) {
        while (bucket < VD_HIST_BUCKETS && vd_hist_bucket_upper_ns(bucket) <= bounds_us[i] * 1000)
            cumulative += a->hist[bucket++];
        put(b, "%s_bucket{%s,le=\"%g\"} %llu\n", name, labels, bounds_us[i] / 1e6,
            (unsigned long long)cumulative);
    }
    put(b, "%s_bucket{%s,le=\"+Inf\"} %llu\n", name, labels, (unsigned long long)a->count);
    put(b, "%s_sum{%s} %.9f\n", name, labels, (double)a->sum_ns / 1e9);
    put(b, "%s_count{%s} %llu\n", name, labels, (unsigned long long)a->count);
}

static void process_metrics(buf_t *b, const vd_stats_snapshot_t *s) {
    char v[64];
    family(b, "verdict_requests_total", "counter", "msgpack-RPC requests received.");
    put(b, "verdict_requests_total %llu\n", (unsigned long long)s->requests);
    family(b, "verdict_decisions_total", "counter", "Decisions answered.");
    put(b, "verdict_decisions_total %llu\n", (unsigned long long)s->decisions);
    family(b, "verdict_errors_total", "counter", "Error replies by code.");
    for (int e = 0; e < VD_RPC__ERR_COUNT; e++)
        put(b, "verdict_errors_total{code=\"%s\"} %llu\n", vd_rpc_err_name(e),
            (unsigned long long)s->errors[e]);
    family(b, "verdict_connections_open", "gauge", "Client connections open now.");
    put(b, "verdict_connections_open %llu\n", (unsigned long long)s->conns_open);
    family(b, "verdict_connections_total", "counter", "Client connections accepted.");
    put(b, "verdict_connections_total %llu\n", (unsigned long long)s->conns_total);
    family(b, "verdict_connections_timed_out_total", "counter",
           "Connections closed: idle or their replies unread past --idle-timeout-ms, or a "
           "request not completed within --request-timeout-ms.");
    put(b, "verdict_connections_timed_out_total{reason=\"idle\"} %llu\n",
        (unsigned long long)s->conns_idle_closed);
    put(b, "verdict_connections_timed_out_total{reason=\"slow_request\"} %llu\n",
        (unsigned long long)s->conns_slow_closed);
    family(b, "verdict_policy_info", "gauge", "The policy version serving now.");
    put(b, "verdict_policy_info{version=\"%s\"} 1\n", esc(s->policy, v, sizeof v));
    family(b, "verdict_reloads_total", "counter", "Successful policy reloads.");
    put(b, "verdict_reloads_total %llu\n", (unsigned long long)s->reloads);
    family(b, "verdict_reload_failures_total", "counter", "Policy reloads refused.");
    put(b, "verdict_reload_failures_total %llu\n", (unsigned long long)s->reload_failures);
    family(b, "verdict_accept_pauses_total", "counter",
           "Times accepting connections paused: out of file descriptors, or at "
           "--max-connections.");
    put(b, "verdict_accept_pauses_total %llu\n", (unsigned long long)s->accept_pauses);
    family(b, "verdict_read_pauses_total", "counter",
           "Times a connection stopped being read: --reply-buffer-mb (4 MiB) of its replies were "
           "unsent.");
    put(b, "verdict_read_pauses_total %llu\n", (unsigned long long)s->read_pauses);
    family(b, "verdict_waiting_decisions", "gauge",
           "Decisions waiting for plugins or Redis now (limit per worker: --max-waiting).");
    put(b, "verdict_waiting_decisions %llu\n", (unsigned long long)s->waiting);
    family(b, "verdict_waiting_bytes", "gauge",
           "Request memory those decisions hold now (limit per worker: --max-waiting-mb).");
    put(b, "verdict_waiting_bytes %llu\n", (unsigned long long)s->waiting_bytes);
    family(b, "verdict_uptime_seconds", "gauge", "Seconds since verdictd started.");
    put(b, "verdict_uptime_seconds %.3f\n", s->uptime_s);
}

/* What the admin socket's state_set and state_reset changed, by kind of entry. */
static void admin_metrics(buf_t *b, const vd_stats_snapshot_t *s) {
    family(b, "verdict_admin_changes_total", "counter",
           "State changed through the admin socket, by method and kind of entry.");
    for (int m = 0; m < VD_CHANGE_METHODS; m++)
        for (int k = 0; k < VD_KEY_KINDS; k++)
            put(b, "verdict_admin_changes_total{method=\"%s\",kind=\"%s\"} %llu\n",
                vd_change_method_names[m], vd_key_kind_name((vd_key_kind_t)k),
                (unsigned long long)s->changes[m][k]);
}

/* One counter family over every stage: fired, faults or timeouts. */
enum { FIRED, FAULTS, TIMEOUTS };

static void stage_counter(buf_t *b, const vd_stats_aggs_t *s, const char *name, const char *help,
                          int which) {
    char p[256], st[256];
    family(b, name, "counter", help);
    for (size_t i = 0; i < s->nnodes; i++) {
        const vd_stats_agg_t *a = &s->nodes[i];
        if (!*a->stage) continue;
        uint64_t v = which == FAULTS ? a->errors : which == TIMEOUTS ? a->timeouts : a->fired;
        put(b, "%s{pipeline=\"%s\",stage=\"%s\"} %llu\n", name, esc(a->pipeline, p, sizeof p),
            esc(a->stage, st, sizeof st), (unsigned long long)v);
    }
}

static void pipeline_metrics(buf_t *b, const vd_stats_aggs_t *s) {
    char p[256], st[256], labels[600];
    family(b, "verdict_pipeline_actions_total", "counter", "Decisions per pipeline and action.");
    for (size_t i = 0; i < s->nnodes; i++) {
        const vd_stats_agg_t *a = &s->nodes[i];
        for (int k = 0; !*a->stage && k < a->nactions; k++)
            put(b, "verdict_pipeline_actions_total{pipeline=\"%s\",action=\"%s\"} %llu\n",
                esc(a->pipeline, p, sizeof p), esc(a->action_names[k], st, sizeof st),
                (unsigned long long)a->action_counts[k]);
    }
    family(b, "verdict_pipeline_invalid_events_total", "counter",
           "Events refused because they lack a field the pipeline's fields require, or hold one "
           "of another type.");
    for (size_t i = 0; i < s->nnodes; i++)
        if (!*s->nodes[i].stage)
            put(b, "verdict_pipeline_invalid_events_total{pipeline=\"%s\"} %llu\n",
                esc(s->nodes[i].pipeline, p, sizeof p), (unsigned long long)s->nodes[i].invalid);
    family(b, "verdict_pipeline_seconds", "histogram", "Time to decide, per pipeline.");
    for (size_t i = 0; i < s->nnodes; i++) {
        if (*s->nodes[i].stage) continue;
        snprintf(labels, sizeof labels, "pipeline=\"%s\"", esc(s->nodes[i].pipeline, p, sizeof p));
        histogram(b, "verdict_pipeline_seconds", labels, &s->nodes[i]);
    }
    family(b, "verdict_stage_seconds", "histogram", "Time per stage run.");
    for (size_t i = 0; i < s->nnodes; i++) {
        const vd_stats_agg_t *a = &s->nodes[i];
        if (!*a->stage) continue;
        snprintf(labels, sizeof labels, "pipeline=\"%s\",stage=\"%s\"",
                 esc(a->pipeline, p, sizeof p), esc(a->stage, st, sizeof st));
        histogram(b, "verdict_stage_seconds", labels, a);
    }
    stage_counter(b, s, "verdict_stage_fired_total", "Rules that fired, per stage.", FIRED);
    stage_counter(b, s, "verdict_stage_faults_total", "Rule and plugin faults, per stage.", FAULTS);
    stage_counter(b, s, "verdict_stage_timeouts_total",
                  "Plugin calls past their deadline and rule stages past their timeout_ms.",
                  TIMEOUTS);
}

/* One counter family over every rule: runs, fired, faults or seconds. */
enum { RULE_RUNS, RULE_FIRED, RULE_FAULTS, RULE_SECONDS };

static void rule_counter(buf_t *b, const vd_stats_aggs_t *s, const char *name, const char *help,
                         int which) {
    char p[256], st[256], ru[256];
    family(b, name, "counter", help);
    for (size_t i = 0; i < s->nrules; i++) {
        const vd_rule_agg_t *r = &s->rules[i];
        put(b, "%s{pipeline=\"%s\",stage=\"%s\",rule=\"%s\",shadow=\"%s\"} ", name,
            esc(r->pipeline, p, sizeof p), esc(r->stage, st, sizeof st),
            esc(r->rule, ru, sizeof ru), r->shadow ? "true" : "false");
        if (which == RULE_SECONDS)
            put(b, "%.9f\n", r->seconds);
        else
            put(b, "%llu\n",
                (unsigned long long)(which == RULE_RUNS    ? r->runs
                                     : which == RULE_FIRED ? r->fired
                                                           : r->faults));
    }
}

static void rule_metrics(buf_t *b, const vd_stats_aggs_t *s) {
    rule_counter(b, s, "verdict_rule_runs_total", "Runs of a rule: decisions that reached it.",
                 RULE_RUNS);
    rule_counter(b, s, "verdict_rule_fired_total", "Runs in which the rule fired.", RULE_FIRED);
    rule_counter(b, s, "verdict_rule_faults_total",
                 "Runs in which the rule failed at run time (skipped; the log says why).",
                 RULE_FAULTS);
    rule_counter(b, s, "verdict_rule_seconds_total",
                 "Time spent running the rule, estimated from a sample of decisions (its rate "
                 "over that of verdict_rule_runs_total: the mean time of a run).",
                 RULE_SECONDS);
}

/* Per pipeline: decisions that ran a shadow stage, and those whose shadow action differed from
 * the live one, per pair of actions. */
static void shadow_metrics(buf_t *b, const vd_stats_aggs_t *s) {
    char p[256], live[256], shadow[256];
    family(b, "verdict_shadow_decisions_total", "counter",
           "Decisions that ran a shadow stage, per pipeline.");
    for (size_t i = 0; i < s->nnodes; i++)
        if (!*s->nodes[i].stage)
            put(b, "verdict_shadow_decisions_total{pipeline=\"%s\"} %llu\n",
                esc(s->nodes[i].pipeline, p, sizeof p),
                (unsigned long long)s->nodes[i].shadow_runs);
    family(b, "verdict_shadow_diff_total", "counter",
           "Decisions whose shadow action differed from the live one, per pipeline and pair of "
           "actions.");
    for (size_t i = 0; i < s->nnodes; i++) {
        const vd_stats_agg_t *a = &s->nodes[i];
        for (int k = 0; !*a->stage && k < a->npairs; k++)
            put(b, "verdict_shadow_diff_total{pipeline=\"%s\",live=\"%s\",shadow=\"%s\"} %llu\n",
                esc(a->pipeline, p, sizeof p), esc(a->pairs[k].live, live, sizeof live),
                esc(a->pairs[k].shadow, shadow, sizeof shadow),
                (unsigned long long)a->pairs[k].count);
    }
}

static void gauge_or_counter(buf_t *b, const char *name, const char *type, const char *help,
                             uint64_t v) {
    family(b, name, type, help);
    put(b, "%s %llu\n", name, (unsigned long long)v);
}

static void gauge_seconds(buf_t *b, const char *name, const char *help, double v) {
    family(b, name, "gauge", help);
    put(b, "%s %.6f\n", name, v);
}

/* --state-snapshot: alert on failures, or on a last success that is too old. */
static void snapshot_metrics(buf_t *b, const vd_state_snapshot_stats_t *p) {
    gauge_or_counter(b, "verdict_state_snapshots_total", "counter", "State snapshots written.",
                     p->writes);
    gauge_or_counter(b, "verdict_state_snapshot_failures_total", "counter",
                     "State snapshots that could not be written (the log says why).", p->failures);
    gauge_or_counter(b, "verdict_state_snapshot_last_success_timestamp_seconds", "gauge",
                     "When the last state snapshot was written (Unix time; 0: not yet).",
                     (uint64_t)p->last.written_at);
    gauge_seconds(b, "verdict_state_snapshot_duration_seconds",
                  "Time the last state snapshot took, fsyncs included.",
                  (double)p->last.elapsed_ns / 1e9);
    gauge_seconds(b, "verdict_state_snapshot_lock_seconds",
                  "Longest time the last state snapshot held one shard of the store.",
                  (double)p->last.longest_lock_ns / 1e9);
    gauge_or_counter(b, "verdict_state_snapshot_entries", "gauge",
                     "Entries in the last state snapshot.", p->last.entries);
    gauge_or_counter(b, "verdict_state_snapshot_bytes", "gauge", "Size of the last state snapshot.",
                     p->last.bytes);
    gauge_or_counter(b, "verdict_state_snapshot_loaded_entries", "gauge",
                     "Entries loaded from the state snapshot at start.", p->loaded);
    gauge_or_counter(b, "verdict_state_snapshot_loaded_expired_entries", "gauge",
                     "Entries of the snapshot at start that expired while the daemon was down.",
                     p->load_expired);
    gauge_or_counter(b, "verdict_state_snapshot_load_failures_total", "counter",
                     "State snapshots refused at start (set aside; the state started empty).",
                     p->load_failures);
}

/* --decision-log: records written, dropped (and why), the file's rotations and errors. */
static void decision_log_metrics(buf_t *b, const vd_dlog_stats_t *d) {
    gauge_or_counter(b, "verdict_decision_log_records_total", "counter",
                     "Decision records written to the decision log.", d->records);
    family(b, "verdict_decision_log_dropped_total", "counter",
           "Decision records not written: full (a worker's buffer was full: the writer fell "
           "behind) or sink (the file refused them, or they were queued at exit).");
    put(b, "verdict_decision_log_dropped_total{reason=\"full\"} %llu\n",
        (unsigned long long)d->dropped_full);
    put(b, "verdict_decision_log_dropped_total{reason=\"sink\"} %llu\n",
        (unsigned long long)d->dropped_sink);
    gauge_or_counter(b, "verdict_decision_log_bytes_total", "counter",
                     "Bytes written to the decision log.", d->bytes);
    gauge_or_counter(b, "verdict_decision_log_rotations_total", "counter",
                     "Decision log files rotated.", d->rotations);
    gauge_or_counter(b, "verdict_decision_log_write_errors_total", "counter",
                     "Writes the decision log's file refused (the log says why).", d->write_errors);
    gauge_or_counter(b, "verdict_decision_log_buffered_bytes", "gauge",
                     "Decision records waiting for the writer.", d->buffered);
}

/* One family with a line per kind: n structs from first, stride bytes apart, each with a
 * uint64_t at offset field, labelled kind="names[k]". */
static void kind_family(buf_t *b, const char *name, const char *type, const char *help,
                        const void *first, size_t stride, size_t field, const char *const *names,
                        int n) {
    family(b, name, type, help);
    for (int k = 0; k < n; k++) {
        uint64_t v;
        memcpy(&v, (const char *)first + k * stride + field, sizeof v);
        put(b, "%s{kind=\"%s\"} %llu\n", name, names[k], (unsigned long long)v);
    }
}

static void campaign_family(buf_t *b, const vd_stats_snapshot_t *st, const char *name,
                            const char *type, const char *help, size_t field) {
    kind_family(b, name, type, help, st->campaigns, sizeof st->campaigns[0], field,
                vd_campaign_kind_names, VD_CAMPAIGN_KINDS);
}

static void campaign_metrics(buf_t *b, const vd_stats_snapshot_t *st) {
#define CF(f) offsetof(vd_campaign_stats_t, f)
    campaign_family(b, st, "verdict_campaign_entries", "gauge", "Campaigns in the index.",
                    CF(entries));
    campaign_family(b, st, "verdict_campaign_bytes", "gauge",
                    "Memory of the campaign index (band entries included).", CF(bytes));
    campaign_family(b, st, "verdict_campaign_evictions_total", "counter",
                    "Cold campaigns evicted by the memory cap.", CF(evictions));
    campaign_family(b, st, "verdict_campaign_expired_total", "counter",
                    "Campaigns dropped after their idle time.", CF(expired));
    campaign_family(b, st, "verdict_campaign_lookups_total", "counter",
                    "Items looked up (verdict.campaign, the plugin host API).", CF(lookups));
    campaign_family(b, st, "verdict_campaign_matches_total", "counter",
                    "Items that joined a campaign already there.", CF(matches));
    campaign_family(b, st, "verdict_campaign_created_total", "counter", "Campaigns started.",
                    CF(created));
#undef CF
    gauge_or_counter(b, "verdict_campaign_too_short_total", "counter",
                     "Texts with too few words for a sketch (no campaign).",
                     st->campaigns[VD_CAMPAIGN_TEXT].too_short);
}

static void store_kind_family(buf_t *b, const vd_stats_snapshot_t *st, const char *name,
                              const char *type, const char *help, size_t field) {
    kind_family(b, name, type, help, st->store.kinds, sizeof st->store.kinds[0], field,
                vd_store_kind_names, VD_STORE_KINDS);
}

static void store_kind_metrics(buf_t *b, const vd_stats_snapshot_t *st) {
#define KF(f) offsetof(vd_store_kind_stats_t, f)
    store_kind_family(b, st, "verdict_state_kind_entries", "gauge",
                      "Entries of the embedded store by kind (record: anomaly models, "
                      "behaviour profiles and decisions' campaigns for reports).",
                      KF(entries));
    store_kind_family(b, st, "verdict_state_kind_bytes", "gauge",
                      "Memory of the embedded store by kind of entry.", KF(bytes));
    store_kind_family(b, st, "verdict_state_kind_evictions_total", "counter",
                      "Entries evicted by the memory cap, by kind.", KF(evictions));
    store_kind_family(b, st, "verdict_state_kind_expired_total", "counter",
                      "Entries dropped when found past their time, by kind.", KF(expired));
#undef KF
}

static void state_metrics(buf_t *b, const vd_stats_snapshot_t *st) {
    gauge_or_counter(b, "verdict_state_entries", "gauge",
                     "Counters, distinct sets and labels in the embedded store.",
                     st->store.entries);
    gauge_or_counter(b, "verdict_state_bytes", "gauge", "Memory of the embedded store.",
                     st->store.bytes);
    gauge_or_counter(b, "verdict_state_evictions_total", "counter",
                     "Entries evicted by the memory cap.", st->store.evictions);
    store_kind_metrics(b, st);
    campaign_metrics(b, st);
    if (st->persist.path) snapshot_metrics(b, &st->persist);
    if (!st->redis_address) return;
    gauge_or_counter(b, "verdict_redis_ops_total", "counter", "State operations sent to Redis.",
                     st->redis.ops);
    gauge_or_counter(b, "verdict_redis_fallbacks_total", "counter",
                     "State operations answered by the fallback.", st->redis.fallbacks);
    gauge_or_counter(b, "verdict_redis_timeouts_total", "counter",
                     "State operations past the Redis timeout.", st->redis.timeouts);
    gauge_or_counter(b, "verdict_redis_connected_workers", "gauge",
                     "Workers with a working Redis connection.", st->redis.connected);
}

/* List files: one family per pass over the registry. */
static void list_entries(const vd_list_info_t *l, size_t i, size_t n, void *arg) {
    buf_t *b = arg;
    char path[1024];
    (void)n;
    if (i == 0) family(b, "verdict_list_entries", "gauge", "Entries of a list file.");
    put(b, "verdict_list_entries{path=\"%s\",kind=\"%s\"} %zu\n", esc(l->path, path, sizeof path),
        vd_list_kind_name(l->kind), l->entries);
}

static void list_errors(const vd_list_info_t *l, size_t i, size_t n, void *arg) {
    buf_t *b = arg;
    char path[1024];
    (void)n;
    if (i == 0)
        family(b, "verdict_list_reload_errors_total", "counter", "List file versions refused.");
    put(b, "verdict_list_reload_errors_total{path=\"%s\"} %llu\n", esc(l->path, path, sizeof path),
        (unsigned long long)l->errors);
}

/* 1 while the file holds a version that was refused and an older one serves. */
static void list_stale(const vd_list_info_t *l, size_t i, size_t n, void *arg) {
    buf_t *b = arg;
    char path[1024];
    (void)n;
    if (i == 0)
        family(b, "verdict_list_stale", "gauge",
               "1 while the list file's contents were refused and its previous version serves.");
    put(b, "verdict_list_stale{path=\"%s\"} %d\n", esc(l->path, path, sizeof path),
        *l->error != '\0');
}

/* The report method's outcomes by label. */
static void report_metrics(buf_t *b, const vd_stats_snapshot_t *s) {
    static const char *const labels[2] = {"good", "bad"};
    family(b, "verdict_reports_total", "counter",
           "Reports (the report method) by label and outcome.");
    for (int l = 0; l < 2; l++)
        for (int o = 0; o < VD_REPORT_OUTCOMES; o++)
            put(b, "verdict_reports_total{label=\"%s\",outcome=\"%s\"} %llu\n", labels[l],
                vd_report_outcome_names[o], (unsigned long long)s->reports[l][o]);
    gauge_or_counter(b, "verdict_report_refs_lost_total", "counter",
                     "Decisions whose campaigns could not be remembered for reports.",
                     s->report_refs_lost);
}

int vd_prometheus_render(const vd_stats_snapshot_t *s, char **out, size_t *len) {
    buf_t b = {0};
    process_metrics(&b, s);
    pipeline_metrics(&b, &s->aggs);
    rule_metrics(&b, &s->aggs);
    shadow_metrics(&b, &s->aggs);
    state_metrics(&b, s);
    admin_metrics(&b, s);
    report_metrics(&b, s);
    if (s->decision_log) decision_log_metrics(&b, &s->dlog);
    vd_lists_each(list_entries, &b);
    vd_lists_each(list_errors, &b);
    vd_lists_each(list_stale, &b);
    if (b.failed || !b.data) {
        free(b.data);
        return -1;
    }
    *out = b.data;
    *len = b.len;
    return 0;
}
