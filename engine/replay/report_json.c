/* The report as JSON: every figure of every section (docs/backtesting.md lists the keys).
 * Absent or undefined values are null, never left out, so readers see one shape. */
#include "report_json.h"

#include "base/error.h"
#include "replay/json_out.h"
#include "replay/names.h"
#include "replay/report_sample.h"
#include "replay/report_view.h"

#include <jansson.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

static void kv_u64(vd_jw_t *w, const char *k, uint64_t v) {
    vd_jw_key(w, k);
    vd_jw_u64(w, v);
}

static void kv_num(vd_jw_t *w, const char *k, double v) {
    vd_jw_key(w, k);
    vd_jw_num(w, v);
}

static void kv_str(vd_jw_t *w, const char *k, const char *v) {
    vd_jw_key(w, k);
    vd_jw_str(w, v);
}

static void kv_time(vd_jw_t *w, const char *k, int64_t ms) {
    char buf[48];
    vd__view_time(buf, ms, 0);
    kv_str(w, k, buf);
}

/* {"before": b, "after": a} on one line. */
static void pair_u64(vd_jw_t *w, const char *k, uint64_t b, uint64_t a) {
    vd_jw_key(w, k);
    vd_jw_object(w, 1);
    kv_u64(w, "before", b);
    kv_u64(w, "after", a);
    vd_jw_end(w);
}

static void pair_num(vd_jw_t *w, const char *k, double b, double a) {
    vd_jw_key(w, k);
    vd_jw_object(w, 1);
    kv_num(w, "before", b);
    kv_num(w, "after", a);
    vd_jw_end(w);
}

static const char *action_or_null(const vd_report_t *r, uint32_t act) {
    return act == VD_ACT_NONE ? NULL : vd__view_action_name(r, act);
}

static void actions(vd_jw_t *w, const vd_report_t *r, const vd_agg_t *a) {
    uint32_t order[VD_ACT_SLOTS];
    size_t n = vd__view_matrix_order(r, a, order);
    vd_jw_key(w, "actions");
    vd_jw_array(w, 0);
    for (size_t i = 0; i < n; i++) {
        uint64_t b = vd__view_total(a, VD_SIDE_BEFORE, order[i]);
        uint64_t f = vd__view_total(a, VD_SIDE_AFTER, order[i]);
        vd_jw_object(w, 1);
        kv_str(w, "action", action_or_null(r, order[i]));
        kv_u64(w, "before", b);
        kv_u64(w, "after", f);
        vd_jw_key(w, "change");
        vd_jw_i64(w, (int64_t)f - (int64_t)b);
        kv_num(w, "mean_score", vd__view_action_mean(a, order[i]));
        vd_jw_end(w);
    }
    vd_jw_end(w);
    vd_jw_key(w, "transitions");
    vd_jw_array(w, 0);
    for (size_t i = 0; i < n; i++) {
        for (size_t j = 0; j < n; j++) {
            uint64_t c = a->matrix[order[i]][order[j]];
            if (!c) continue;
            vd_jw_object(w, 1);
            kv_str(w, "before", action_or_null(r, order[i]));
            kv_str(w, "after", action_or_null(r, order[j]));
            kv_u64(w, "count", c);
            vd_jw_end(w);
        }
    }
    vd_jw_end(w);
}

static const char *rule_status(const vd_rule_stat_t *s) {
    uint64_t b = s->fired[VD_SIDE_BEFORE], f = s->fired[VD_SIDE_AFTER];
    return !b ? "new" : !f ? "gone" : f > b ? "up" : f < b ? "down" : "same";
}

static int rules(vd_jw_t *w, const vd_report_t *r, const vd_agg_t *a) {
    uint32_t *ids;
    size_t n;
    if (vd__view_rules(r, a, &ids, &n) != 0) return VD_ENOMEM;
    vd_jw_key(w, "rules");
    vd_jw_array(w, 0);
    for (size_t i = 0; i < n; i++) {
        const vd_rule_stat_t *s = &a->rules[ids[i]];
        vd_jw_object(w, 1);
        kv_str(w, "rule", vd__names_get(&r->rules, ids[i]));
        kv_u64(w, "before", s->fired[VD_SIDE_BEFORE]);
        kv_u64(w, "after", s->fired[VD_SIDE_AFTER]);
        vd_jw_key(w, "change");
        vd_jw_i64(w, (int64_t)s->fired[VD_SIDE_AFTER] - (int64_t)s->fired[VD_SIDE_BEFORE]);
        kv_num(w, "relative", vd__view_rule_relative(s));
        kv_str(w, "status", rule_status(s));
        pair_u64(w, "bad", s->bad[VD_SIDE_BEFORE], s->bad[VD_SIDE_AFTER]);
        pair_u64(w, "good", s->good[VD_SIDE_BEFORE], s->good[VD_SIDE_AFTER]);
        vd_jw_end(w);
    }
    vd_jw_end(w);
    free(ids);
    return 0;
}

static void confusion(vd_jw_t *w, const char *k, const vd_confusion_t *c) {
    vd_jw_key(w, k);
    vd_jw_object(w, 1);
    kv_u64(w, "tp", c->tp);
    kv_u64(w, "fp", c->fp);
    kv_u64(w, "fn", c->fn);
    kv_u64(w, "tn", c->tn);
    kv_num(w, "precision", c->precision);
    kv_num(w, "recall", c->recall);
    kv_num(w, "fpr", c->fpr);
    vd_jw_end(w);
}

static void labels(vd_jw_t *w, const vd_report_t *r, const vd_agg_t *a) {
    uint32_t order[VD_ACT_SLOTS];
    size_t n = vd__view_actions(r, a, order);
    vd_jw_key(w, "labels");
    vd_jw_object(w, 0);
    kv_u64(w, "bad", a->labels[VD_LABEL_BAD]);
    kv_u64(w, "good", a->labels[VD_LABEL_GOOD]);
    kv_u64(w, "unknown", a->labels[VD_LABEL_UNKNOWN]);
    kv_u64(w, "evaluated", vd__view_labelled(a));
    kv_str(w, "default_action", n ? vd__view_action_name(r, order[0]) : NULL);
    vd_jw_key(w, "order");
    vd_jw_array(w, 1);
    for (size_t i = 0; i < n; i++)
        vd_jw_str(w, vd__view_action_name(r, order[i]));
    vd_jw_end(w);
    vd_metric_t m[VD_MAX_METRICS];
    size_t nm = vd__view_metrics(a, order, n, m);
    vd_jw_key(w, "metrics");
    vd_jw_array(w, 0);
    for (size_t i = 0; i < nm; i++) {
        const vd_confusion_t *b = &m[i].side[VD_SIDE_BEFORE], *f = &m[i].side[VD_SIDE_AFTER];
        vd_jw_object(w, 0);
        kv_str(w, "prediction", vd__view_action_name(r, m[i].action));
        kv_str(w, "match", m[i].at_least ? "at_least" : "exact");
        confusion(w, "before", b);
        confusion(w, "after", f);
        vd_jw_key(w, "change");
        vd_jw_object(w, 1);
        kv_num(w, "precision", f->precision - b->precision);
        kv_num(w, "recall", f->recall - b->recall);
        kv_num(w, "fpr", f->fpr - b->fpr);
        vd_jw_end(w);
        vd_jw_end(w);
    }
    vd_jw_end(w);
    vd_jw_end(w);
}

static void scores(vd_jw_t *w, const vd_agg_t *a) {
    vd_jw_key(w, "scores");
    vd_jw_object(w, 0);
    kv_num(w, "bin_width", (double)vd_axis_width(&a->score_axis) / VD_SCORE_TICKS);
    pair_u64(w, "non_finite", a->nonfinite[VD_SIDE_BEFORE], a->nonfinite[VD_SIDE_AFTER]);
    vd_jw_key(w, "bins");
    vd_jw_array(w, 0);
    for (int i = 0; i < a->score_axis.n; i++) {
        vd_jw_object(w, 1);
        kv_num(w, "from", vd__view_score_bin(a, i));
        kv_u64(w, "before", a->score_bins[VD_SIDE_BEFORE][i]);
        kv_u64(w, "after", a->score_bins[VD_SIDE_AFTER][i]);
        vd_jw_end(w);
    }
    vd_jw_end(w);
    vd_jw_end(w);
}

static void time_series(vd_jw_t *w, const vd_report_t *r, const vd_agg_t *a) {
    vd_jw_key(w, "time_series");
    vd_jw_object(w, 0);
    kv_u64(w, "bucket_ms", (uint64_t)vd_axis_width(&r->time_axis));
    vd_jw_key(w, "buckets");
    vd_jw_array(w, 0);
    for (int i = 0; i < r->time_axis.n; i++) {
        int64_t t = vd_axis_bin_start(&r->time_axis, i);
        vd_jw_object(w, 1);
        vd_jw_key(w, "start_ms");
        vd_jw_i64(w, t);
        kv_time(w, "start", t);
        kv_u64(w, "decisions", a->time_n[i]);
        kv_u64(w, "changed", a->time_changed[i]);
        vd_jw_end(w);
    }
    vd_jw_end(w);
    vd_jw_end(w);
}

static void sample_side(vd_jw_t *w, const vd_report_t *r, const char *k,
                        const vd_sample_side_t *s) {
    vd_jw_key(w, k);
    vd_jw_object(w, 1);
    kv_str(w, "action", action_or_null(r, s->action));
    kv_num(w, "score", s->action == VD_ACT_NONE ? NAN : s->score);
    vd_jw_key(w, "rules");
    vd_jw_array(w, 1);
    for (size_t i = 0; i < s->nrules; i++)
        vd_jw_str(w, vd__names_get(&r->rules, s->rules[i]));
    vd_jw_end(w);
    vd_jw_key(w, "reasons");
    json_t *reasons = s->reasons ? json_loads(s->reasons, JSON_DECODE_ANY, NULL) : NULL;
    if (reasons)
        vd_jw_json(w, reasons);
    else
        vd_jw_null(w);
    json_decref(reasons);
    vd_jw_end(w);
}

static int samples(vd_jw_t *w, const vd_report_t *r, const vd_agg_t *a) {
    size_t n;
    const vd_sample_t **items = vd__samples_sorted(&a->samples, &n);
    if (n == SIZE_MAX) return VD_ENOMEM;
    vd_jw_key(w, "samples");
    vd_jw_object(w, 0);
    kv_u64(w, "first", a->samples.nfirst);
    kv_u64(w, "reservoir", a->samples.nreservoir);
    kv_u64(w, "reservoir_population", a->samples.later);
    vd_jw_key(w, "items");
    vd_jw_array(w, 0);
    for (size_t i = 0; i < n; i++) {
        const vd_sample_t *x = items[i];
        vd_jw_object(w, 0);
        kv_u64(w, "seq", x->seq);
        kv_str(w, "kept", i < a->samples.nfirst ? "first" : "reservoir");
        kv_str(w, "id", x->id);
        vd_jw_key(w, "time_ms");
        if (x->time_ms == VD_REPLAY_NO_TIME) {
            vd_jw_null(w);
            kv_str(w, "time", NULL);
        } else {
            vd_jw_i64(w, x->time_ms);
            kv_time(w, "time", x->time_ms);
        }
        kv_str(w, "pipeline", vd__names_get(&r->pipelines, x->pipeline));
        kv_str(w, "label", x->label < 0 ? NULL : x->label ? "bad" : "good");
        sample_side(w, r, "before", &x->side[VD_SIDE_BEFORE]);
        sample_side(w, r, "after", &x->side[VD_SIDE_AFTER]);
        vd_jw_end(w);
    }
    vd_jw_end(w);
    vd_jw_end(w);
    free(items);
    return 0;
}

static int section(vd_jw_t *w, const vd_report_t *r, const vd_agg_t *a) {
    vd_jw_object(w, 0);
    int overall = a->pipeline == UINT32_MAX;
    kv_str(w, "pipeline", overall ? NULL : vd__names_get(&r->pipelines, a->pipeline));
    kv_u64(w, "decisions", a->rows);
    kv_u64(w, "changed", a->changed);
    kv_num(w, "changed_share", vd__ratio((double)a->changed, (double)a->rows));
    kv_u64(w, "score_changed", a->score_changed);
    kv_u64(w, "rules_changed", a->rules_changed);
    pair_u64(w, "missing", a->missing[VD_SIDE_BEFORE], a->missing[VD_SIDE_AFTER]);
    pair_num(w, "mean_score",
             vd__ratio(a->score_sum[VD_SIDE_BEFORE], (double)a->score_n[VD_SIDE_BEFORE]),
             vd__ratio(a->score_sum[VD_SIDE_AFTER], (double)a->score_n[VD_SIDE_AFTER]));
    actions(w, r, a);
    if (rules(w, r, a) != 0) return VD_ENOMEM;
    labels(w, r, a);
    scores(w, a);
    time_series(w, r, a);
    if (!overall && samples(w, r, a) != 0) return VD_ENOMEM;
    vd_jw_end(w);
    return 0;
}

static int sections(vd_jw_t *w, const vd_report_t *r) {
    const vd_agg_t *secs[VD_REPORT_MAX_PIPELINES + 1];
    size_t n = vd__view_sections(r, secs);
    vd_jw_key(w, "overall");
    if (section(w, r, &r->all) != 0) return VD_ENOMEM;
    vd_jw_key(w, "pipelines");
    vd_jw_array(w, 0);
    for (size_t i = 0; i < n; i++)
        if (secs[i] != &r->all && section(w, r, secs[i]) != 0) return VD_ENOMEM;
    vd_jw_end(w);
    return 0;
}

int vd__report_json(const vd_report_t *r, FILE *out) {
    vd_jw_t w;
    vd_jw_init(&w, out);
    vd_jw_object(&w, 0);
    kv_str(&w, "format", "verdict-backtest");
    kv_u64(&w, "version", 1);
    kv_str(&w, "before", r->before_name);
    kv_str(&w, "after", r->after_name);
    kv_u64(&w, "rows", r->rows);
    vd_jw_key(&w, "time");
    vd_jw_object(&w, 0);
    kv_u64(&w, "timed", r->timed);
    kv_u64(&w, "untimed", r->rows - r->timed);
    vd_jw_key(&w, "first_ms");
    r->timed ? vd_jw_i64(&w, r->first_ms) : vd_jw_null(&w);
    vd_jw_key(&w, "last_ms");
    r->timed ? vd_jw_i64(&w, r->last_ms) : vd_jw_null(&w);
    vd_jw_key(&w, "bucket_ms");
    r->timed ? vd_jw_u64(&w, (uint64_t)vd_axis_width(&r->time_axis)) : vd_jw_null(&w);
    vd_jw_end(&w);
    vd_jw_key(&w, "sampling");
    vd_jw_object(&w, 1);
    kv_u64(&w, "first", r->nfirst);
    kv_u64(&w, "reservoir", r->nreservoir);
    vd_jw_end(&w);
    int rc = sections(&w, r);
    if (rc != 0) return rc;
    vd_jw_end(&w);
    fputc('\n', out);
    return ferror(out) ? VD_EIO : 0;
}
