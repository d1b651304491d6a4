#include "snapshot.h"

#include "plugin/stage.h"
#include "policy/policy.h"
#include "stage_info.h"
#include "state/list.h"

#include <stdlib.h>
#include <string.h>

const char *const vd_change_method_names[VD_CHANGE_METHODS] = {"state_set", "state_reset"};

void vd_snapshot_add_serve(vd_stats_snapshot_t *snap, vd_serve_stats_t *s) {
    snap->requests += vd_counter_get(&s->requests);
    snap->decisions += vd_counter_get(&s->decisions);
    snap->notifications += vd_counter_get(&s->notifications);
    for (int e = 0; e < VD_RPC__ERR_COUNT; e++) {
        uint64_t n = vd_counter_get(&s->errors[e]);
        snap->errors[e] += n;
        snap->errors_total += n;
    }
    for (int m = 0; m < VD_CHANGE_METHODS; m++)
        for (int k = 0; k < VD_KEY_KINDS; k++)
            snap->changes[m][k] += vd_counter_get(&s->changes[m][k]);
    for (int l = 0; l < 2; l++)
        for (int o = 0; o < VD_REPORT_OUTCOMES; o++)
            snap->reports[l][o] += vd_counter_get(&s->reports[l][o]);
    snap->report_refs_lost += vd_counter_get(&s->report_refs_lost);
}

void vd_snapshot_free(vd_stats_snapshot_t *snap) {
    vd_stats_aggs_free(&snap->aggs);
}

/* stats "plugins": what each plugin stage of the serving policy runs (model versions). */
/* The Redis clients of every worker, summed. */
static void pack_redis(msgpack_packer *pk, const vd_stats_snapshot_t *snap) {
    const vd_redis_totals_t *t = &snap->redis;
    const uint64_t v[] = {t->ops, t->fallbacks, t->timeouts, t->connects, t->connected};
    static const char *const names[] = {"ops", "fallbacks", "timeouts", "connects",
                                        "connected_workers"};
    vd_pack_cstr(pk, "redis");
    msgpack_pack_map(pk, 6);
    vd_pack_cstr(pk, "address");
    vd_pack_cstr(pk, snap->redis_address);
    for (int i = 0; i < 5; i++)
        vd_pack_u64(pk, names[i], v[i]);
}

/* stats "state" "snapshot": --state-snapshot's writes, and what was loaded at start. */
static void pack_persist(msgpack_packer *pk, const vd_state_snapshot_stats_t *p) {
    const uint64_t v[] = {p->writes,
                          p->failures,
                          (uint64_t)p->last.written_at,
                          p->last.entries,
                          p->last.bytes,
                          (uint64_t)(p->last.longest_lock_ns / 1000),
                          p->loaded,
                          p->load_expired,
                          p->load_failures,
                          (uint64_t)p->loaded_written_at};
    static const char *const names[] = {"writes",          "failures",
                                        "last_written_at", "last_entries",
                                        "last_bytes",      "last_longest_lock_us",
                                        "loaded",          "loaded_expired",
                                        "load_failures",   "loaded_written_at"};
    vd_pack_cstr(pk, "snapshot");
    msgpack_pack_map(pk, 15);
    vd_pack_cstr(pk, "path");
    vd_pack_cstr(pk, p->path);
    vd_pack_u64(pk, "interval_s", (uint64_t)p->interval_s);
    for (int i = 0; i < 10; i++)
        vd_pack_u64(pk, names[i], v[i]);
    vd_pack_cstr(pk, "last_seconds");
    msgpack_pack_double(pk, (double)p->last.elapsed_ns / 1e9);
    vd_pack_cstr(pk, "last_error");
    vd_pack_cstr(pk, p->last_error);
    vd_pack_cstr(pk, "load_error");
    vd_pack_cstr(pk, p->load_error);
}

/* stats "state"."campaigns": per kind, the index's size, churn and use. */
static void pack_campaigns(msgpack_packer *pk, const vd_stats_snapshot_t *snap) {
    vd_pack_cstr(pk, "campaigns");
    msgpack_pack_map(pk, VD_CAMPAIGN_KINDS);
    for (int k = 0; k < VD_CAMPAIGN_KINDS; k++) {
        const vd_campaign_stats_t *c = &snap->campaigns[k];
        vd_pack_cstr(pk, vd_campaign_kind_names[k]);
        msgpack_pack_map(pk, 7 + (k == VD_CAMPAIGN_TEXT));
        vd_pack_u64(pk, "entries", c->entries);
        vd_pack_u64(pk, "bytes", c->bytes);
        vd_pack_u64(pk, "evictions", c->evictions);
        vd_pack_u64(pk, "expired", c->expired);
        vd_pack_u64(pk, "lookups", c->lookups);
        vd_pack_u64(pk, "matches", c->matches);
        vd_pack_u64(pk, "created", c->created);
        if (k == VD_CAMPAIGN_TEXT) vd_pack_u64(pk, "too_short", c->too_short);
    }
}

/* stats "state.kinds": the store's figures by kind of entry. */
static void pack_store_kinds(msgpack_packer *pk, const vd_store_stats_t *st) {
    vd_pack_cstr(pk, "kinds");
    msgpack_pack_map(pk, VD_STORE_KINDS);
    for (int k = 0; k < VD_STORE_KINDS; k++) {
        const vd_store_kind_stats_t *c = &st->kinds[k];
        vd_pack_cstr(pk, vd_store_kind_names[k]);
        msgpack_pack_map(pk, 4);
        vd_pack_u64(pk, "entries", c->entries);
        vd_pack_u64(pk, "bytes", c->bytes);
        vd_pack_u64(pk, "evictions", c->evictions);
        vd_pack_u64(pk, "expired", c->expired);
    }
}

/* stats "state": the backend, and the embedded store's size and churn. */
static void pack_state(msgpack_packer *pk, const vd_stats_snapshot_t *snap) {
    const vd_store_stats_t *st = &snap->store;
    vd_pack_cstr(pk, "state");
    msgpack_pack_map(pk, 8 + (snap->redis_address != NULL) + (snap->persist.path != NULL));
    vd_pack_cstr(pk, "backend");
    vd_pack_cstr(pk, snap->redis_address ? "redis" : "embedded");
    vd_pack_cstr(pk, "fallback");
    vd_pack_cstr(pk, snap->state_fail_open ? "open" : "local");
    if (snap->redis_address) pack_redis(pk, snap);
    if (snap->persist.path) pack_persist(pk, &snap->persist);
    vd_pack_u64(pk, "entries", st->entries);
    vd_pack_u64(pk, "bytes", st->bytes);
    vd_pack_u64(pk, "evictions", st->evictions);
    vd_pack_u64(pk, "expired", st->expired);
    pack_store_kinds(pk, st);
    pack_campaigns(pk, snap);
}

static void pack_list(const vd_list_info_t *l, size_t i, size_t n, void *arg) {
    msgpack_packer *pk = arg;
    if (i == 0) msgpack_pack_array(pk, n);
    msgpack_pack_map(pk, 10);
    vd_pack_cstr(pk, "path");
    vd_pack_cstr(pk, l->path);
    vd_pack_cstr(pk, "kind");
    vd_pack_cstr(pk, vd_list_kind_name(l->kind));
    vd_pack_u64(pk, "entries", l->entries);
    vd_pack_u64(pk, "bytes", l->bytes);
    vd_pack_u64(pk, "version", l->version);
    vd_pack_u64(pk, "reloads", l->reloads);
    vd_pack_u64(pk, "errors", l->errors);
    vd_pack_u64(pk, "skipped_lines", l->skipped);
    vd_pack_cstr(pk, "load_seconds");
    msgpack_pack_double(pk, l->load_seconds);
    vd_pack_cstr(pk, "error");
    vd_pack_cstr(pk, l->error);
}

/* stats "lists": every list file the process holds. */
static void pack_lists(msgpack_packer *pk) {
    vd_pack_cstr(pk, "lists");
    if (vd_lists_each(pack_list, pk) == 0) msgpack_pack_array(pk, 0);
}

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

static int is_rule_of(const vd_rule_agg_t *r, const vd_stats_agg_t *st) {
    return strcmp(r->stage, st->stage) == 0 && strcmp(r->pipeline, st->pipeline) == 0;
}

/* A stage's "rules": per rule its runs, fired, faults and estimated seconds. */
static void pack_rules(msgpack_packer *pk, const vd_stats_aggs_t *snap, const vd_stats_agg_t *st) {
    size_t n = 0;
    for (size_t i = 0; i < snap->nrules; i++)
        n += is_rule_of(&snap->rules[i], st);
    vd_pack_cstr(pk, "rules");
    msgpack_pack_map(pk, n);
    for (size_t i = 0; i < snap->nrules; i++) {
        const vd_rule_agg_t *r = &snap->rules[i];
        if (!is_rule_of(r, st)) continue;
        vd_pack_cstr(pk, r->rule);
        msgpack_pack_map(pk, 4);
        vd_pack_u64(pk, "runs", r->runs);
        vd_pack_u64(pk, "fired", r->fired);
        vd_pack_u64(pk, "faults", r->faults);
        vd_pack_cstr(pk, "seconds");
        msgpack_pack_double(pk, r->seconds);
    }
}

/* A pipeline's "shadow": decisions that ran a shadow stage, those whose shadow action differed,
 * and those per pair of actions. */
static void pack_shadow(msgpack_packer *pk, const vd_stats_agg_t *p) {
    vd_pack_cstr(pk, "shadow");
    msgpack_pack_map(pk, 3);
    vd_pack_u64(pk, "decisions", p->shadow_runs);
    vd_pack_u64(pk, "differ", p->shadow_diffs);
    vd_pack_cstr(pk, "pairs");
    msgpack_pack_array(pk, (size_t)p->npairs);
    for (int i = 0; i < p->npairs; i++) {
        msgpack_pack_map(pk, 3);
        vd_pack_cstr(pk, "live");
        vd_pack_cstr(pk, p->pairs[i].live);
        vd_pack_cstr(pk, "shadow");
        vd_pack_cstr(pk, p->pairs[i].shadow);
        vd_pack_u64(pk, "count", p->pairs[i].count);
    }
}

static void pack_pipeline(msgpack_packer *pk, const vd_stats_aggs_t *snap,
                          const vd_stats_agg_t *p) {
    size_t nstages = 0;
    for (size_t i = 0; i < snap->nnodes; i++)
        nstages += is_stage_of(&snap->nodes[i], p);
    vd_pack_cstr(pk, p->pipeline);
    msgpack_pack_map(pk, 7);
    vd_pack_u64(pk, "requests", p->count);
    vd_pack_u64(pk, "errors", p->errors);
    vd_pack_u64(pk, "invalid_events", p->invalid);
    pack_latency(pk, p);
    vd_pack_cstr(pk, "actions");
    msgpack_pack_map(pk, (size_t)p->nactions);
    for (int i = 0; i < p->nactions; i++)
        vd_pack_u64(pk, p->action_names[i], p->action_counts[i]);
    pack_shadow(pk, p);
    vd_pack_cstr(pk, "stages");
    msgpack_pack_map(pk, nstages);
    for (size_t i = 0; i < snap->nnodes; i++) {
        const vd_stats_agg_t *s = &snap->nodes[i];
        if (!is_stage_of(s, p)) continue;
        vd_pack_cstr(pk, s->stage);
        msgpack_pack_map(pk, 7);
        vd_pack_u64(pk, "runs", s->count);
        vd_pack_u64(pk, "faults", s->errors);
        vd_pack_u64(pk, "timeouts", s->timeouts);
        vd_pack_u64(pk, "fired", s->fired);
        vd_pack_cstr(pk, "shadow");
        s->shadow ? msgpack_pack_true(pk) : msgpack_pack_false(pk);
        pack_latency(pk, s);
        pack_rules(pk, snap, s);
    }
}

/* admin_changes: what the admin socket's state_set and state_reset changed, by kind. */
static void pack_admin_changes(msgpack_packer *pk, const vd_stats_snapshot_t *s) {
    vd_pack_cstr(pk, "admin_changes");
    msgpack_pack_map(pk, VD_CHANGE_METHODS);
    for (int m = 0; m < VD_CHANGE_METHODS; m++) {
        vd_pack_cstr(pk, vd_change_method_names[m]);
        msgpack_pack_map(pk, VD_KEY_KINDS);
        for (int k = 0; k < VD_KEY_KINDS; k++)
            vd_pack_u64(pk, vd_key_kind_name((vd_key_kind_t)k), s->changes[m][k]);
    }
}

/* reports: the report method's outcomes by label, and decisions whose campaigns could not be
 * remembered for reports. */
static void pack_reports(msgpack_packer *pk, const vd_stats_snapshot_t *s) {
    static const char *const labels[2] = {"good", "bad"};
    vd_pack_cstr(pk, "reports");
    msgpack_pack_map(pk, 3);
    for (int l = 0; l < 2; l++) {
        vd_pack_cstr(pk, labels[l]);
        msgpack_pack_map(pk, VD_REPORT_OUTCOMES);
        for (int o = 0; o < VD_REPORT_OUTCOMES; o++)
            vd_pack_u64(pk, vd_report_outcome_names[o], s->reports[l][o]);
    }
    vd_pack_u64(pk, "refs_lost", s->report_refs_lost);
}

/* decision_log: nil when off, else its figures. */
static void pack_decision_log(msgpack_packer *pk, const vd_stats_snapshot_t *s) {
    vd_pack_cstr(pk, "decision_log");
    if (!s->decision_log) {
        msgpack_pack_nil(pk);
        return;
    }
    const vd_dlog_stats_t *d = &s->dlog;
    msgpack_pack_map(pk, 9);
    vd_pack_cstr(pk, "path");
    vd_pack_cstr(pk, s->decision_log);
    vd_pack_u64(pk, "records", d->records);
    vd_pack_u64(pk, "dropped_full", d->dropped_full);
    vd_pack_u64(pk, "dropped_sink", d->dropped_sink);
    vd_pack_u64(pk, "bytes", d->bytes);
    vd_pack_u64(pk, "rotations", d->rotations);
    vd_pack_u64(pk, "reopens", d->reopens);
    vd_pack_u64(pk, "write_errors", d->write_errors);
    vd_pack_u64(pk, "buffered_bytes", d->buffered);
}

void vd_snapshot_pack(msgpack_packer *pk, const vd_stats_snapshot_t *s, const vd_policy_t *policy) {
    const vd_stats_aggs_t *a = &s->aggs;
    size_t npipes = 0;
    for (size_t i = 0; i < a->nnodes; i++)
        npipes += !*a->nodes[i].stage;
    msgpack_pack_map(pk, 27);
    vd_pack_u64(pk, "workers", (uint64_t)s->workers);
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
    vd_pack_u64(pk, "connections_idle_closed", s->conns_idle_closed);
    vd_pack_u64(pk, "connections_slow_closed", s->conns_slow_closed);
    vd_pack_u64(pk, "bytes_in", s->bytes_in);
    vd_pack_u64(pk, "bytes_out", s->bytes_out);
    vd_pack_cstr(pk, "policy");
    vd_pack_cstr(pk, s->policy);
    vd_pack_u64(pk, "reloads", s->reloads);
    vd_pack_u64(pk, "reload_failures", s->reload_failures);
    vd_pack_u64(pk, "accept_pauses", s->accept_pauses);
    vd_pack_u64(pk, "waiting", s->waiting);
    vd_pack_u64(pk, "waiting_bytes", s->waiting_bytes);
    vd_pack_u64(pk, "read_pauses", s->read_pauses);
    vd_pack_cstr(pk, "uptime_s");
    msgpack_pack_double(pk, s->uptime_s);
    vd_pack_cstr(pk, "pipelines");
    msgpack_pack_map(pk, npipes);
    for (size_t i = 0; i < a->nnodes; i++)
        if (!*a->nodes[i].stage) pack_pipeline(pk, a, &a->nodes[i]);
    vd_pack_plugin_stages(pk, policy);
    pack_state(pk, s);
    pack_lists(pk);
    pack_decision_log(pk, s);
    pack_admin_changes(pk, s);
    pack_reports(pk, s);
}
