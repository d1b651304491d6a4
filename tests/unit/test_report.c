/* The backtest report: aggregation, the transition matrix, per-rule changes, labelled metrics
 * on a hand-computed example, samples, the streaming axes, bounds, escaping of hostile data,
 * and that the same rows always give the same bytes. The outputs end to end (HTML parsed,
 * JSON checked against figures computed apart) are in tests/replay/test_report.py. */
#include "replay/axis.h"
#include "replay/escape.h"
#include "replay/names.h"
#include "replay/report.h"
#include "replay/report_data.h"
#include "replay/report_sample.h"
#include "replay/report_view.h"
#include "vd_test.h"

#include "base/error.h"

#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define T0 1767225600000LL /* 2026-01-01T00:00:00Z */

/* Splits "a,b,c" into rules (at most 8; the string is copied into buf). */
static size_t split(const char *list, char buf[128], const char *rules[8]) {
    size_t n = 0;
    if (!list || !*list) return 0;
    snprintf(buf, 128, "%s", list);
    for (char *save, *tok = strtok_r(buf, ",", &save); tok && n < 8;
         tok = strtok_r(NULL, ",", &save))
        rules[n++] = tok;
    return n;
}

typedef struct side_spec {
    const char *action;
    double score;
    const char *rules;
} side_spec_t;

static int add(vd_report_t *r, const char *pipeline, const char *id, int64_t t, side_spec_t b,
               side_spec_t a, int label) {
    char bb[128], ab[128];
    const char *br[8], *ar[8];
    vd_replay_row_t row = {.id = id, .time_ms = t, .pipeline = pipeline, .label = label};
    row.before = (vd_replay_side_t){b.action, b.score, br, split(b.rules, bb, br), NULL};
    row.after = (vd_replay_side_t){a.action, a.score, ar, split(a.rules, ab, ar), NULL};
    return vd_report_add(r, &row);
}

static uint32_t act(const vd_report_t *r, const char *name) {
    uint32_t *id = vd_strmap_find(&r->actions.ids, name, strlen(name));
    CU_ASSERT_PTR_NOT_NULL(id);
    return id ? *id : VD_ACT_NONE;
}

static uint32_t rule(const vd_report_t *r, const char *name) {
    uint32_t *id = vd_strmap_find(&r->rules.ids, name, strlen(name));
    CU_ASSERT_PTR_NOT_NULL_FATAL(id);
    return id ? *id : 0;
}

static const vd_agg_t *pipe_agg(const vd_report_t *r, const char *name) {
    uint32_t *id = vd_strmap_find(&r->pipelines.ids, name, strlen(name));
    CU_ASSERT_PTR_NOT_NULL_FATAL(id);
    return id ? r->pipes[*id] : &r->all;
}

/* The example every figure below is computed from by hand (label: 1 bad, 0 good, -1 none). */
static vd_report_t *example(void) {
    vd_report_t *r = vd_report_new(&(vd_report_opts_t){.samples = 2, .reservoir = 1});
    CU_ASSERT_PTR_NOT_NULL_FATAL(r);
    CU_ASSERT_EQUAL(
        add(r, "p", "r1", T0, (side_spec_t){"allow", 0, ""}, (side_spec_t){"allow", 0, ""}, 0), 0);
    CU_ASSERT_EQUAL(add(r, "p", "r2", T0 + 1000, (side_spec_t){"allow", 1, "a"},
                        (side_spec_t){"block", 12, "a,b"}, 1),
                    0);
    CU_ASSERT_EQUAL(add(r, "p", "r3", T0 + 2000, (side_spec_t){"block", 11, "c"},
                        (side_spec_t){"block", 12, "c,b"}, 1),
                    0);
    CU_ASSERT_EQUAL(add(r, "p", "r4", T0 + 3000, (side_spec_t){"challenge", 6, "c"},
                        (side_spec_t){"allow", 2, "d"}, 0),
                    0);
    CU_ASSERT_EQUAL(add(r, "p", "r5", T0 + 4000, (side_spec_t){"challenge", 5, "a,a"},
                        (side_spec_t){"challenge", 5, "a"}, -1),
                    0);
    CU_ASSERT_EQUAL(
        add(r, "p", "r6", T0 + 5000, (side_spec_t){NULL, 0, ""}, (side_spec_t){"allow", 0, ""}, 1),
        0);
    CU_ASSERT_EQUAL(add(r, "q", "r7", T0 + 6000, (side_spec_t){"allow", 0, ""},
                        (side_spec_t){"challenge", 7, "e"}, 0),
                    0);
    return r;
}

static void test_aggregation(void) {
    vd_report_t *r = example();
    const vd_agg_t *all = &r->all, *p = pipe_agg(r, "p"), *q = pipe_agg(r, "q");
    CU_ASSERT_EQUAL(vd_report_rows(r), 7);
    CU_ASSERT_EQUAL(all->rows, 7);
    CU_ASSERT_EQUAL(p->rows, 6);
    CU_ASSERT_EQUAL(q->rows, 1);
    CU_ASSERT_EQUAL(all->changed, 4);       /* r2, r4, r6, r7 */
    CU_ASSERT_EQUAL(all->score_changed, 4); /* r2, r3, r4, r7 (r6 had no decision before) */
    CU_ASSERT_EQUAL(all->rules_changed, 4); /* r2, r3, r4, r7; r5 names a twice, same set */
    CU_ASSERT_EQUAL(all->missing[VD_SIDE_BEFORE], 1);
    CU_ASSERT_EQUAL(all->missing[VD_SIDE_AFTER], 0);
    CU_ASSERT_EQUAL(p->labels[VD_LABEL_BAD], 3);
    CU_ASSERT_EQUAL(p->labels[VD_LABEL_GOOD], 2);
    CU_ASSERT_EQUAL(p->labels[VD_LABEL_UNKNOWN], 1);
    CU_ASSERT_DOUBLE_EQUAL(all->score_sum[VD_SIDE_BEFORE], 23, 1e-9);
    CU_ASSERT_EQUAL(all->score_n[VD_SIDE_BEFORE], 6);
    CU_ASSERT_DOUBLE_EQUAL(all->score_sum[VD_SIDE_AFTER], 38, 1e-9);
    CU_ASSERT_EQUAL(r->timed, 7);
    CU_ASSERT_EQUAL(r->first_ms, T0);
    CU_ASSERT_EQUAL(r->last_ms, T0 + 6000);
    vd_report_free(r);
}

static void test_matrix(void) {
    vd_report_t *r = example();
    uint32_t allow = act(r, "allow"), challenge = act(r, "challenge"), block = act(r, "block");
    const vd_agg_t *all = &r->all;
    CU_ASSERT_EQUAL(all->matrix[allow][allow], 1);
    CU_ASSERT_EQUAL(all->matrix[allow][block], 1);
    CU_ASSERT_EQUAL(all->matrix[block][block], 1);
    CU_ASSERT_EQUAL(all->matrix[challenge][allow], 1);
    CU_ASSERT_EQUAL(all->matrix[challenge][challenge], 1);
    CU_ASSERT_EQUAL(all->matrix[VD_ACT_NONE][allow], 1);
    CU_ASSERT_EQUAL(all->matrix[allow][challenge], 1);
    uint64_t sum = 0;
    for (int i = 0; i < VD_ACT_SLOTS; i++)
        for (int j = 0; j < VD_ACT_SLOTS; j++)
            sum += all->matrix[i][j];
    CU_ASSERT_EQUAL(sum, 7);
    CU_ASSERT_EQUAL(vd__view_total(all, VD_SIDE_BEFORE, allow), 3);
    CU_ASSERT_EQUAL(vd__view_total(all, VD_SIDE_AFTER, allow), 3);
    CU_ASSERT_EQUAL(vd__view_total(all, VD_SIDE_AFTER, block), 2);
    CU_ASSERT_EQUAL(vd__view_total(all, VD_SIDE_BEFORE, VD_ACT_NONE), 1);
    /* Mildest first by mean score; "(none)" leads the matrix when a side lacked decisions. */
    uint32_t order[VD_ACT_SLOTS];
    CU_ASSERT_EQUAL_FATAL(vd__view_matrix_order(r, all, order), 4);
    CU_ASSERT_EQUAL(order[0], VD_ACT_NONE);
    CU_ASSERT_EQUAL(order[1], allow);
    CU_ASSERT_EQUAL(order[2], challenge);
    CU_ASSERT_EQUAL(order[3], block);
    CU_ASSERT_EQUAL(vd__view_actions(r, pipe_agg(r, "q"), order), 2);
    vd_report_free(r);
}

static void test_rules(void) {
    vd_report_t *r = example();
    const vd_agg_t *all = &r->all;
    const vd_rule_stat_t *a = &all->rules[rule(r, "a")], *b = &all->rules[rule(r, "b")];
    const vd_rule_stat_t *c = &all->rules[rule(r, "c")];
    CU_ASSERT_EQUAL(a->fired[VD_SIDE_BEFORE], 2); /* r5's two a count once */
    CU_ASSERT_EQUAL(a->fired[VD_SIDE_AFTER], 2);
    CU_ASSERT_EQUAL(b->fired[VD_SIDE_BEFORE], 0);
    CU_ASSERT_EQUAL(b->fired[VD_SIDE_AFTER], 2);
    CU_ASSERT_EQUAL(b->bad[VD_SIDE_AFTER], 2);
    CU_ASSERT_EQUAL(c->fired[VD_SIDE_BEFORE], 2);
    CU_ASSERT_EQUAL(c->fired[VD_SIDE_AFTER], 1);
    CU_ASSERT_EQUAL(c->bad[VD_SIDE_BEFORE], 1);
    CU_ASSERT_EQUAL(c->good[VD_SIDE_BEFORE], 1);
    CU_ASSERT_DOUBLE_EQUAL(vd__view_rule_relative(c), -0.5, 1e-12);
    CU_ASSERT(isnan(vd__view_rule_relative(b)));
    uint32_t *ids;
    size_t n;
    CU_ASSERT_EQUAL_FATAL(vd__view_rules(r, all, &ids, &n), 0);
    /* |change| 2 (b), then 1 with more hits (c: 3), then 1 by name (d, e), then 0 (a). */
    const char *want[] = {"b", "c", "d", "e", "a"};
    CU_ASSERT_EQUAL_FATAL(n, 5);
    for (size_t i = 0; i < n; i++)
        CU_ASSERT_STRING_EQUAL(vd__names_get(&r->rules, ids[i]), want[i]);
    free(ids);
    /* The pipeline q saw only e. */
    CU_ASSERT_EQUAL_FATAL(vd__view_rules(r, pipe_agg(r, "q"), &ids, &n), 0);
    CU_ASSERT_EQUAL(n, 1);
    free(ids);
    vd_report_free(r);
}

static void check_conf(const vd_confusion_t *c, uint64_t tp, uint64_t fp, uint64_t fn, uint64_t tn,
                       double precision, double recall, double fpr) {
    CU_ASSERT_EQUAL(c->tp, tp);
    CU_ASSERT_EQUAL(c->fp, fp);
    CU_ASSERT_EQUAL(c->fn, fn);
    CU_ASSERT_EQUAL(c->tn, tn);
    CU_ASSERT(isnan(precision) ? isnan(c->precision) : fabs(c->precision - precision) < 1e-12);
    CU_ASSERT(isnan(recall) ? isnan(c->recall) : fabs(c->recall - recall) < 1e-12);
    CU_ASSERT(isnan(fpr) ? isnan(c->fpr) : fabs(c->fpr - fpr) < 1e-12);
}

/* Pipeline p: the labelled rows decided on both sides are r1 (good: allow -> allow), r2 (bad:
 * allow -> block), r3 (bad: block -> block), r4 (good: challenge -> allow). */
static void test_labelled_metrics(void) {
    vd_report_t *r = example();
    const vd_agg_t *p = pipe_agg(r, "p");
    CU_ASSERT_EQUAL(vd__view_labelled(p), 4);
    uint32_t order[VD_ACT_SLOTS];
    size_t n = vd__view_actions(r, p, order);
    CU_ASSERT_EQUAL_FATAL(n, 3);
    vd_metric_t m[VD_MAX_METRICS];
    CU_ASSERT_EQUAL_FATAL(vd__view_metrics(p, order, n, m), 3);
    CU_ASSERT_EQUAL(m[0].action, act(r, "challenge"));
    CU_ASSERT_EQUAL(m[0].at_least, 0);
    check_conf(&m[0].side[VD_SIDE_BEFORE], 0, 1, 2, 1, 0, 0, 0.5);
    check_conf(&m[0].side[VD_SIDE_AFTER], 0, 0, 2, 2, NAN, 0, 0);
    CU_ASSERT_EQUAL(m[1].action, act(r, "challenge"));
    CU_ASSERT_EQUAL(m[1].at_least, 1); /* challenge or block: flagged */
    check_conf(&m[1].side[VD_SIDE_BEFORE], 1, 1, 1, 1, 0.5, 0.5, 0.5);
    check_conf(&m[1].side[VD_SIDE_AFTER], 2, 0, 0, 2, 1, 1, 0);
    CU_ASSERT_EQUAL(m[2].action, act(r, "block"));
    CU_ASSERT_EQUAL(m[2].at_least, 0);
    check_conf(&m[2].side[VD_SIDE_BEFORE], 1, 0, 1, 2, 1, 0.5, 0);
    check_conf(&m[2].side[VD_SIDE_AFTER], 2, 0, 0, 2, 1, 1, 0);
    vd_report_free(r);
}

static char *write_to_string(vd_report_t *r, int (*write)(const vd_report_t *, FILE *),
                             size_t *len) {
    char *buf = NULL;
    size_t n = 0;
    FILE *f = open_memstream(&buf, &n);
    CU_ASSERT_PTR_NOT_NULL_FATAL(f);
    CU_ASSERT_EQUAL(write(r, f), 0);
    fclose(f);
    if (len) *len = n;
    return buf;
}

/* The same figures through the JSON output, read back with a strict parser. */
static void test_json_figures(void) {
    vd_report_t *r = example();
    char *text = write_to_string(r, vd_report_write_json, NULL);
    json_error_t jerr;
    json_t *doc = json_loads(text, 0, &jerr);
    if (!doc) fprintf(stderr, "JSON: %s at %d:%d\n", jerr.text, jerr.line, jerr.column);
    CU_ASSERT_PTR_NOT_NULL_FATAL(doc);
    CU_ASSERT_EQUAL(json_integer_value(json_object_get(doc, "rows")), 7);
    json_t *overall = json_object_get(doc, "overall");
    CU_ASSERT_EQUAL(json_integer_value(json_object_get(overall, "changed")), 4);
    CU_ASSERT(json_is_null(json_object_get(overall, "pipeline")));
    json_t *pipes = json_object_get(doc, "pipelines");
    CU_ASSERT_EQUAL_FATAL(json_array_size(pipes), 2);
    json_t *p = json_array_get(pipes, 0);
    CU_ASSERT_STRING_EQUAL(json_string_value(json_object_get(p, "pipeline")), "p");
    json_t *metrics = json_object_get(json_object_get(p, "labels"), "metrics");
    CU_ASSERT_EQUAL_FATAL(json_array_size(metrics), 3);
    json_t *flagged = json_array_get(metrics, 1);
    CU_ASSERT_STRING_EQUAL(json_string_value(json_object_get(flagged, "match")), "at_least");
    json_t *before = json_object_get(flagged, "before"), *after = json_object_get(flagged, "after");
    CU_ASSERT_DOUBLE_EQUAL(json_number_value(json_object_get(before, "precision")), 0.5, 1e-12);
    CU_ASSERT_DOUBLE_EQUAL(json_number_value(json_object_get(after, "recall")), 1, 1e-12);
    json_t *change = json_object_get(flagged, "change");
    CU_ASSERT_DOUBLE_EQUAL(json_number_value(json_object_get(change, "fpr")), -0.5, 1e-12);
    /* An undefined precision is null, not left out. */
    json_t *exact = json_object_get(json_array_get(metrics, 0), "after");
    CU_ASSERT(json_is_null(json_object_get(exact, "precision")));
    json_t *rules = json_object_get(p, "rules");
    CU_ASSERT_STRING_EQUAL(json_string_value(json_object_get(json_array_get(rules, 0), "rule")),
                           "b");
    CU_ASSERT_STRING_EQUAL(json_string_value(json_object_get(json_array_get(rules, 0), "status")),
                           "new");
    /* Transitions: every non-zero cell, "(none)" as null. */
    json_t *tr = json_object_get(p, "transitions"), *cell;
    size_t i, nulls = 0, total = 0;
    json_array_foreach(tr, i, cell) {
        nulls += json_is_null(json_object_get(cell, "before"));
        total += (size_t)json_integer_value(json_object_get(cell, "count"));
    }
    CU_ASSERT_EQUAL(nulls, 1);
    CU_ASSERT_EQUAL(total, 6);
    /* p's changed decisions were r2, r4 and r6: two first, one in the reservoir. */
    json_t *samples = json_object_get(p, "samples");
    CU_ASSERT_EQUAL(json_integer_value(json_object_get(samples, "reservoir_population")), 1);
    json_t *items = json_object_get(samples, "items");
    CU_ASSERT_EQUAL_FATAL(json_array_size(items), 3);
    CU_ASSERT_STRING_EQUAL(json_string_value(json_object_get(json_array_get(items, 0), "id")),
                           "r2");
    CU_ASSERT_STRING_EQUAL(json_string_value(json_object_get(json_array_get(items, 2), "kept")),
                           "reservoir");
    json_decref(doc);
    free(text);
    vd_report_free(r);
}

/* Reservoir: bounded, input order, only changed decisions, and the same draw every time. */
static void test_samples(void) {
    vd_report_t *r[2];
    for (int k = 0; k < 2; k++) {
        r[k] = vd_report_new(&(vd_report_opts_t){.samples = 5, .reservoir = 7});
        int failed = 0;
        for (int i = 0; i < 10000; i++) {
            char id[16];
            snprintf(id, sizeof id, "d%d", i);
            int changed = i % 3 == 0;
            failed += add(r[k], "p", id, T0 + i, (side_spec_t){"allow", 1, "x"},
                          (side_spec_t){changed ? "block" : "allow", 1, "x"}, -1) != 0;
        }
        CU_ASSERT_EQUAL(failed, 0);
    }
    const vd_agg_t *p = r[0]->pipes[0];
    CU_ASSERT_EQUAL(p->samples.nfirst, 5);
    CU_ASSERT_EQUAL(p->samples.nreservoir, 7);
    CU_ASSERT_EQUAL(p->samples.later, 3334 - 5);
    size_t n;
    const vd_sample_t **items = vd__samples_sorted(&p->samples, &n);
    CU_ASSERT_EQUAL_FATAL(n, 12);
    for (size_t i = 0; i < n; i++) {
        CU_ASSERT_EQUAL((items[i]->seq - 1) % 3, 0);
        if (i) CU_ASSERT(items[i]->seq > items[i - 1]->seq);
        if (i < 5) CU_ASSERT_EQUAL(items[i]->seq, 1 + 3 * i);
    }
    /* Drawn from the whole stream, not only its start. */
    CU_ASSERT(items[n - 1]->seq > 5000);
    free(items);
    for (int f = 0; f < 3; f++) {
        int (*w)(const vd_report_t *, FILE *) = f == 0   ? vd_report_write_text
                                                : f == 1 ? vd_report_write_json
                                                         : vd_report_write_html;
        size_t la, lb;
        char *a = write_to_string(r[0], w, &la), *b = write_to_string(r[1], w, &lb);
        CU_ASSERT(la == lb && memcmp(a, b, la) == 0);
        free(a);
        free(b);
    }
    vd_report_free(r[0]);
    vd_report_free(r[1]);
    /* No samples at all when asked. */
    vd_report_t *none = vd_report_new(
        &(vd_report_opts_t){.samples = VD_REPORT_NO_SAMPLES, .reservoir = VD_REPORT_NO_SAMPLES});
    CU_ASSERT_EQUAL(
        add(none, "p", "x", T0, (side_spec_t){"allow", 0, ""}, (side_spec_t){"block", 10, ""}, -1),
        0);
    CU_ASSERT_EQUAL(none->pipes[0]->samples.nfirst + none->pipes[0]->samples.nreservoir, 0);
    vd_report_free(none);
}

static void test_axis(void) {
    static const int64_t ladder[] = {1, 10, 60};
    vd_axis_t a, b, was;
    uint64_t ca[VD_AXIS_MAX_BINS] = {0}, cb[VD_AXIS_MAX_BINS] = {0};
    vd_axis_init(&a, ladder, 3, 8);
    vd_axis_init(&b, ladder, 3, 8);
    /* The same values in two orders end on the same bins with the same counts. */
    int64_t vals[] = {5, -3, 7, 100, 42, 0, -61, 250, 999, 17};
    size_t nv = sizeof vals / sizeof *vals;
    for (size_t i = 0; i < nv; i++) {
        if (vd_axis_fit(&a, vals[i], &was)) vd_axis_remap(&was, &a, ca);
        ca[vd_axis_bin(&a, vals[i])]++;
        int64_t v = vals[nv - 1 - i];
        if (vd_axis_fit(&b, v, &was)) vd_axis_remap(&was, &b, cb);
        cb[vd_axis_bin(&b, v)]++;
    }
    CU_ASSERT_EQUAL(vd_axis_width(&a), vd_axis_width(&b));
    CU_ASSERT_EQUAL(a.lo, b.lo);
    CU_ASSERT_EQUAL(a.n, b.n);
    CU_ASSERT_EQUAL(memcmp(ca, cb, sizeof ca), 0);
    /* -61 .. 999 needs 1060 / 8 per bin: 60 is too narrow, so past the ladder: 120, 240. */
    CU_ASSERT_EQUAL(vd_axis_width(&a), 240);
    CU_ASSERT_EQUAL(vd_axis_bin_start(&a, 0), -240);
    uint64_t total = 0;
    for (int i = 0; i < a.n; i++)
        total += ca[i];
    CU_ASSERT_EQUAL(total, nv);
    /* Extremes are clamped, never overflow. */
    CU_ASSERT_EQUAL(vd_axis_fit(&a, INT64_MAX, &was), 1);
    CU_ASSERT_EQUAL(vd_axis_fit(&a, INT64_MIN, &was), 1);
    CU_ASSERT(a.n <= 8);
}

/* A day of rows at one a minute gives 15-minute buckets (96); three days, one hour. */
static void test_time_buckets(void) {
    vd_report_t *r = vd_report_new(NULL);
    for (int i = 0; i < 24 * 60; i++)
        add(r, "p", "x", T0 + 60000LL * i, (side_spec_t){"allow", 0, ""},
            (side_spec_t){i % 10 ? "allow" : "block", 0, ""}, -1);
    CU_ASSERT_EQUAL(vd_axis_width(&r->time_axis), 900000);
    CU_ASSERT_EQUAL(r->time_axis.n, 96);
    CU_ASSERT_EQUAL(r->all.time_n[0], 15);
    CU_ASSERT_EQUAL(r->all.time_changed[0], 2); /* minutes 0 and 10 */
    add(r, "p", "y", T0 + 3 * 86400000LL - 1, (side_spec_t){"allow", 0, ""},
        (side_spec_t){"allow", 0, ""}, -1);
    CU_ASSERT_EQUAL(vd_axis_width(&r->time_axis), 3600000);
    CU_ASSERT_EQUAL(r->time_axis.n, 72);
    CU_ASSERT_EQUAL(r->all.time_n[0], 60);
    CU_ASSERT_EQUAL(r->pipes[0]->time_n[71], 1);
    /* A row without a time is counted, but not in the series. */
    add(r, "p", "z", VD_REPLAY_NO_TIME, (side_spec_t){"allow", 0, ""},
        (side_spec_t){"allow", 0, ""}, -1);
    CU_ASSERT_EQUAL(r->rows, 24 * 60 + 2);
    CU_ASSERT_EQUAL(r->timed, 24 * 60 + 1);
    char buf[48];
    vd__view_time(buf, T0 + 3723004, 0);
    CU_ASSERT_STRING_EQUAL(buf, "2026-01-01T01:02:03.004Z");
    vd__view_time(buf, T0 - 1, 0);
    CU_ASSERT_STRING_EQUAL(buf, "2025-12-31T23:59:59.999Z");
    vd__view_time(buf, T0 + 900000, 900000);
    CU_ASSERT_STRING_EQUAL(buf, "2026-01-01 00:15");
    vd__view_width(buf, 900000);
    CU_ASSERT_STRING_EQUAL(buf, "15 min");
    vd__view_width(buf, 7 * 86400000LL);
    CU_ASSERT_STRING_EQUAL(buf, "7 days");
    vd_report_free(r);
}

/* Scores: shared bins before and after; not-a-number scores counted apart. */
static void test_scores(void) {
    vd_report_t *r = vd_report_new(NULL);
    for (int i = 0; i <= 20; i++)
        add(r, "p", "x", T0, (side_spec_t){"allow", i, ""}, (side_spec_t){"allow", i + 0.5, ""},
            -1);
    add(r, "p", "x", T0, (side_spec_t){"allow", NAN, ""}, (side_spec_t){"allow", INFINITY, ""}, -1);
    const vd_agg_t *a = &r->all;
    CU_ASSERT_EQUAL(a->nonfinite[VD_SIDE_BEFORE], 1);
    CU_ASSERT_EQUAL(a->nonfinite[VD_SIDE_AFTER], 1);
    CU_ASSERT_DOUBLE_EQUAL(vd__view_score_bin(a, 0), 0, 1e-12);
    CU_ASSERT_DOUBLE_EQUAL(vd_axis_width(&a->score_axis) / VD_SCORE_TICKS, 0.5, 1e-12);
    uint64_t nb = 0, na = 0;
    for (int i = 0; i < a->score_axis.n; i++) {
        nb += a->score_bins[VD_SIDE_BEFORE][i];
        na += a->score_bins[VD_SIDE_AFTER][i];
        /* Integers before, halves after: never in the same bin at width 0.5. */
        CU_ASSERT(!(a->score_bins[VD_SIDE_BEFORE][i] && a->score_bins[VD_SIDE_AFTER][i]));
    }
    CU_ASSERT_EQUAL(nb, 21);
    CU_ASSERT_EQUAL(na, 21);
    CU_ASSERT_EQUAL(a->score_changed, 22);
    vd_report_free(r);
}

/* Memory stays bounded: names past the maximum fold into "(other)". */
static void test_bounds(void) {
    vd_report_t *r = vd_report_new(NULL);
    for (int i = 0; i < 100; i++) {
        char action[16], pipeline[16];
        snprintf(action, sizeof action, "act%d", i);
        snprintf(pipeline, sizeof pipeline, "pipe%d", i);
        CU_ASSERT_EQUAL(add(r, pipeline, "x", T0, (side_spec_t){action, 0, ""},
                            (side_spec_t){"allow", 0, ""}, -1),
                        0);
    }
    CU_ASSERT(vd__names_end(&r->actions) <= VD_ACT_SLOTS);
    CU_ASSERT(vd__names_end(&r->pipelines) <= VD_REPORT_MAX_PIPELINES);
    CU_ASSERT_STRING_EQUAL(vd__names_get(&r->actions, vd__names_end(&r->actions) - 1),
                           VD_REPORT_OTHER);
    CU_ASSERT_EQUAL(r->all.rows, 100);
    uint64_t other = vd__view_total(&r->all, VD_SIDE_BEFORE, act(r, VD_REPORT_OTHER));
    CU_ASSERT_EQUAL(other, 100 - (VD_REPORT_MAX_ACTIONS - 2)); /* "allow" took an id too */
    /* A side with rules but no array is refused, and changes nothing. */
    vd_replay_row_t bad = {.pipeline = "p", .before = {.action = "allow", .nrules = 2}};
    CU_ASSERT_EQUAL(vd_report_add(r, &bad), VD_EINVAL);
    CU_ASSERT_EQUAL(vd_report_add(r, NULL), VD_EINVAL);
    CU_ASSERT_EQUAL(r->all.rows, 100);
    /* Writers cope with an empty report too. */
    vd_report_t *empty = vd_report_new(NULL);
    for (int f = 0; f < 3; f++) {
        char *s = write_to_string(empty,
                                  f == 0   ? vd_report_write_text
                                  : f == 1 ? vd_report_write_json
                                           : vd_report_write_html,
                                  NULL);
        CU_ASSERT(strlen(s) > 0);
        free(s);
    }
    vd_report_free(empty);
    vd_report_free(r);
}

/* Strings an attacker may control: ids, pipelines, actions, rules and reasons. */
#define HOSTILE "<script>alert('x')</script>&amp;\"\x1b[2J\x07\xff\xfe\xe2\x80\xa8\xc2\x9b"

static void hostile_report(vd_report_t **out) {
    vd_report_t *r = vd_report_new(
        &(vd_report_opts_t){.before_name = "<b>before</b>", .after_name = "after\x1b]0;owned\x07"});
    const char *rules[] = {HOSTILE, "ok"};
    vd_replay_row_t row = {
        .id = HOSTILE,
        .time_ms = T0,
        .pipeline = HOSTILE,
        .before = {"allow", 1, rules, 2,
                   "[{\"rule\":\"</td><script>x</script>\",\"detail\":\"\\u001b[31m\\u2028\"}]"},
        .after = {HOSTILE, 9, rules, 1, "not json <img src=x onerror=alert(1)>"},
        .label = 1,
    };
    CU_ASSERT_EQUAL(vd_report_add(r, &row), 0);
    row.pipeline = "second"; /* two pipelines: the overall section too */
    CU_ASSERT_EQUAL(vd_report_add(r, &row), 0);
    *out = r;
}

static void test_escape_html(void) {
    vd_report_t *r;
    hostile_report(&r);
    char *html = write_to_string(r, vd_report_write_html, NULL);
    CU_ASSERT_PTR_NULL(strcasestr(html, "<script"));
    CU_ASSERT_PTR_NULL(strcasestr(html, "<img"));
    CU_ASSERT_PTR_NULL(strstr(html, "<b>before"));
    CU_ASSERT_PTR_NOT_NULL(
        strstr(html, "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;&amp;amp;"));
    CU_ASSERT_PTR_NULL(strstr(html, "\xff"));
    size_t controls = 0;
    for (const char *p = html; *p; p++)
        controls += (unsigned char)*p < 0x20 && *p != '\n' && *p != '\t';
    CU_ASSERT_EQUAL(controls, 0);
    CU_ASSERT_PTR_NULL(strstr(html, "\xc2\x9b")); /* C1 controls replaced too */
    /* Every element opened is closed: a crude count that catches a broken writer. */
    size_t opens = 0, closes = 0;
    for (const char *p = html; (p = strstr(p, "<section")); p++)
        opens++;
    for (const char *p = html; (p = strstr(p, "</section>")); p++)
        closes++;
    CU_ASSERT_EQUAL(opens, 3);
    CU_ASSERT_EQUAL(closes, 3);
    free(html);
    vd_report_free(r);
}

static void test_escape_json_text(void) {
    vd_report_t *r;
    hostile_report(&r);
    char *text = write_to_string(r, vd_report_write_json, NULL);
    json_error_t jerr;
    json_t *doc = json_loads(text, 0, &jerr); /* strict: valid UTF-8, no raw controls */
    if (!doc) fprintf(stderr, "JSON: %s at %d:%d\n", jerr.text, jerr.line, jerr.column);
    CU_ASSERT_PTR_NOT_NULL_FATAL(doc);
    CU_ASSERT_PTR_NULL(strstr(text, "\xe2\x80\xa8")); /* U+2028 written as \u2028 */
    json_t *p = json_array_get(json_object_get(doc, "pipelines"), 0);
    const char *name = json_string_value(json_object_get(p, "pipeline"));
    CU_ASSERT_PTR_NOT_NULL_FATAL(name);
    CU_ASSERT_STRING_EQUAL(name, "<script>alert('x')</script>&amp;\"\x1b[2J\x07\xef\xbf\xbd\xef"
                                 "\xbf\xbd\xe2\x80\xa8\xc2\x9b");
    json_t *item = json_array_get(json_object_get(json_object_get(p, "samples"), "items"), 0);
    json_t *reasons = json_object_get(json_object_get(item, "before"), "reasons");
    CU_ASSERT(json_is_array(reasons));
    reasons = json_object_get(json_object_get(item, "after"), "reasons");
    CU_ASSERT_STRING_EQUAL(json_string_value(reasons), "not json <img src=x onerror=alert(1)>");
    json_decref(doc);
    free(text);

    text = write_to_string(r, vd_report_write_text, NULL);
    size_t controls = 0;
    for (const unsigned char *s = (const unsigned char *)text; *s; s++)
        controls += (*s < 0x20 && *s != '\n') || *s == 0x7f ||
                    (s[0] == 0xc2 && s[1] >= 0x80 && s[1] < 0xa0);
    CU_ASSERT_EQUAL(controls, 0);
    CU_ASSERT_PTR_NOT_NULL(strstr(text, "\\x1b[2J\\x07\\xff\\xfe"));
    free(text);
    vd_report_free(r);

    char *esc = vd_esc_text("ab\\c\x01", 5, 0);
    CU_ASSERT_STRING_EQUAL(esc, "ab\\\\c\\x01");
    free(esc);
    esc = vd_esc_text("abcdefgh", 8, 5);
    CU_ASSERT_STRING_EQUAL(esc, "abcd~");
    free(esc);
    esc = vd_esc_text("abcde", 5, 5);
    CU_ASSERT_STRING_EQUAL(esc, "abcde");
    free(esc);
}

void vd_suite_report(void) {
    static const vd_test_t tests[] = {{"aggregation", test_aggregation},
                                      {"transition matrix and action order", test_matrix},
                                      {"per-rule changes", test_rules},
                                      {"labelled metrics", test_labelled_metrics},
                                      {"JSON figures", test_json_figures},
                                      {"samples and determinism", test_samples},
                                      {"streaming axis", test_axis},
                                      {"time buckets", test_time_buckets},
                                      {"score histogram", test_scores},
                                      {"bounds and bad rows", test_bounds},
                                      {"HTML escaping", test_escape_html},
                                      {"JSON and text escaping", test_escape_json_text},
                                      {NULL, NULL}};
    vd_add_suite("report", tests);
}
