/* The report's aggregation: each row updates the overall aggregate and its pipeline's. */
#include "report.h"

#include "base/error.h"
#include "replay/names.h"
#include "replay/report_data.h"
#include "replay/report_html.h"
#include "replay/report_json.h"
#include "replay/report_sample.h"
#include "replay/report_text.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define DEFAULT_SAMPLES 20

/* Time bins: 1 s, 10 s, 1 min, 5 min, 15 min, 1 h, 6 h, 1 day, 7 days, 28 days, then doubling;
 * each divides the next, and all are aligned on the Unix epoch (days on UTC midnight). */
static const int64_t time_ladder[] = {1000,    10000,    60000,    300000,    900000,
                                      3600000, 21600000, 86400000, 604800000, 2419200000};
/* Score bins: powers of two times 1/1024. */
static const int64_t score_ladder[] = {1};

static void agg_init(vd_agg_t *a, uint32_t pipeline) {
    memset(a, 0, sizeof *a);
    a->pipeline = pipeline;
    vd_axis_init(&a->score_axis, score_ladder, 1, VD_SCORE_BINS);
}

static void agg_close(vd_agg_t *a) {
    free(a->rules);
    vd__samples_free(&a->samples);
}

vd_report_t *vd_report_new(const vd_report_opts_t *opts) {
    vd_report_t *r = calloc(1, sizeof *r);
    if (!r) return NULL;
    vd_report_opts_t o = opts ? *opts : (vd_report_opts_t){0};
    r->nfirst = o.samples == VD_REPORT_NO_SAMPLES ? 0 : o.samples ? o.samples : DEFAULT_SAMPLES;
    r->nreservoir = o.reservoir == VD_REPORT_NO_SAMPLES ? 0
                    : o.reservoir                       ? o.reservoir
                                                        : DEFAULT_SAMPLES;
    r->before_name = strdup(o.before_name ? o.before_name : "before");
    r->after_name = strdup(o.after_name ? o.after_name : "after");
    if (!r->before_name || !r->after_name) {
        vd_report_free(r);
        return NULL;
    }
    vd__names_init(&r->pipelines, 0, VD_REPORT_MAX_PIPELINES);
    vd__names_init(&r->actions, 1, VD_REPORT_MAX_ACTIONS);
    vd__names_init(&r->rules, 0, VD_REPORT_MAX_RULES);
    agg_init(&r->all, UINT32_MAX);
    vd_axis_init(&r->time_axis, time_ladder, sizeof time_ladder / sizeof *time_ladder,
                 VD_TIME_BUCKETS);
    return r;
}

void vd_report_free(vd_report_t *r) {
    if (!r) return;
    agg_close(&r->all);
    for (size_t i = 0; i < VD_REPORT_MAX_PIPELINES; i++) {
        if (!r->pipes[i]) continue;
        agg_close(r->pipes[i]);
        free(r->pipes[i]);
    }
    vd__names_free(&r->pipelines);
    vd__names_free(&r->actions);
    vd__names_free(&r->rules);
    free(r->stamp);
    for (int s = 0; s < VD_SIDES; s++)
        free(r->row_rules[s]);
    free(r->before_name);
    free(r->after_name);
    free(r);
}

uint64_t vd_report_rows(const vd_report_t *r) {
    return r->rows;
}

/* Grows the zeroed array of size-byte items at *arrp (any pointer type: it is read and written
 * with memcpy, so no pointer is accessed through another type) to at least n items, doubling. */
static int grow_zeroed(void *arrp, size_t *cap, size_t n, size_t size) {
    if (n <= *cap) return 0;
    size_t c = *cap ? *cap : 16;
    while (c < n)
        c *= 2;
    char *arr;
    memcpy(&arr, arrp, sizeof arr);
    char *more = realloc(arr, c * size);
    if (!more) return VD_ENOMEM;
    memset(more + *cap * size, 0, (c - *cap) * size);
    memcpy(arrp, &more, sizeof more);
    *cap = c;
    return 0;
}

static vd_agg_t *pipeline_agg(vd_report_t *r, const char *name, int *rc) {
    uint32_t id;
    if ((*rc = vd__names_intern(&r->pipelines, name, &id)) != 0) return NULL;
    if (r->pipes[id]) return r->pipes[id];
    vd_agg_t *a = malloc(sizeof *a);
    if (!a) {
        *rc = VD_ENOMEM;
        return NULL;
    }
    agg_init(a, id);
    vd__samples_init(&a->samples, vd__names_get(&r->pipelines, id));
    return r->pipes[id] = a;
}

/* The row's distinct rule ids of one side, into r->row_rules[side]. */
static int collect_rules(vd_report_t *r, int side, const vd_replay_side_t *s) {
    r->nrow_rules[side] = 0;
    int rc = grow_zeroed(&r->row_rules[side], &r->row_rules_cap[side], s->nrules, sizeof(uint32_t));
    for (size_t i = 0; rc == 0 && i < s->nrules; i++) {
        uint32_t id;
        rc = vd__names_intern(&r->rules, s->rules[i] ? s->rules[i] : "", &id);
        if (rc == 0) rc = grow_zeroed(&r->stamp, &r->nstamp, (size_t)id + 1, sizeof *r->stamp);
        if (rc != 0 || r->stamp[id].side[side] == r->calls) continue;
        r->stamp[id].side[side] = r->calls;
        r->row_rules[side][r->nrow_rules[side]++] = id;
    }
    return rc;
}

static int ensure_rules(vd_agg_t *a, uint32_t end) {
    return grow_zeroed(&a->rules, &a->nrules, end, sizeof *a->rules);
}

static uint32_t action_id(vd_report_t *r, const char *name, int *rc) {
    uint32_t id = VD_ACT_NONE;
    if (name && (*rc = vd__names_intern(&r->actions, name, &id)) != 0) return VD_ACT_NONE;
    return id;
}

/* What one row is, once its names are ids. */
typedef struct row_facts {
    const vd_replay_row_t *row;
    uint32_t act[VD_SIDES];
    int label; /* VD_LABEL_* */
    int changed, score_changed, rules_changed;
    int time_bin; /* -1: no time */
} row_facts_t;

static int64_t score_ticks(double score) {
    double t = floor(score * VD_SCORE_TICKS);
    if (t > (double)VD_AXIS_LIMIT) return VD_AXIS_LIMIT;
    if (t < -(double)VD_AXIS_LIMIT) return -VD_AXIS_LIMIT;
    return (int64_t)t;
}

static void count_scores(vd_agg_t *a, const row_facts_t *f) {
    const vd_replay_side_t *sides[VD_SIDES] = {&f->row->before, &f->row->after};
    for (int s = 0; s < VD_SIDES; s++) {
        if (f->act[s] == VD_ACT_NONE) continue;
        double score = sides[s]->score;
        if (!isfinite(score)) {
            a->nonfinite[s]++;
            continue;
        }
        a->score_sum[s] += score;
        a->score_n[s]++;
        a->act_score_sum[f->act[s]] += score;
        a->act_score_n[f->act[s]]++;
        vd_axis_t was;
        int64_t ticks = score_ticks(score);
        if (vd_axis_fit(&a->score_axis, ticks, &was)) {
            vd_axis_remap(&was, &a->score_axis, a->score_bins[VD_SIDE_BEFORE]);
            vd_axis_remap(&was, &a->score_axis, a->score_bins[VD_SIDE_AFTER]);
        }
        a->score_bins[s][vd_axis_bin(&a->score_axis, ticks)]++;
    }
}

static void count_row(const vd_report_t *r, vd_agg_t *a, const row_facts_t *f) {
    a->rows++;
    a->changed += (uint64_t)f->changed;
    a->score_changed += (uint64_t)f->score_changed;
    a->rules_changed += (uint64_t)f->rules_changed;
    a->matrix[f->act[VD_SIDE_BEFORE]][f->act[VD_SIDE_AFTER]]++;
    a->labels[f->label]++;
    int both = f->act[VD_SIDE_BEFORE] != VD_ACT_NONE && f->act[VD_SIDE_AFTER] != VD_ACT_NONE;
    for (int s = 0; s < VD_SIDES; s++) {
        if (f->act[s] == VD_ACT_NONE) a->missing[s]++;
        if (both) a->by_label[s][f->label][f->act[s]]++;
        for (size_t i = 0; i < r->nrow_rules[s]; i++) {
            vd_rule_stat_t *st = &a->rules[r->row_rules[s][i]];
            st->fired[s]++;
            st->bad[s] += f->label == VD_LABEL_BAD;
            st->good[s] += f->label == VD_LABEL_GOOD;
        }
    }
    count_scores(a, f);
    if (f->time_bin >= 0) {
        a->time_n[f->time_bin]++;
        a->time_changed[f->time_bin] += (uint64_t)f->changed;
    }
}

/* Rules changed: the two sides' sets of distinct rules differ. */
static int rules_differ(const vd_report_t *r) {
    size_t common = 0;
    for (size_t i = 0; i < r->nrow_rules[VD_SIDE_AFTER]; i++)
        common += r->stamp[r->row_rules[VD_SIDE_AFTER][i]].side[VD_SIDE_BEFORE] == r->calls;
    return common != r->nrow_rules[VD_SIDE_BEFORE] || common != r->nrow_rules[VD_SIDE_AFTER];
}

static int scores_differ(double a, double b) {
    if (isnan(a) || isnan(b)) return isnan(a) != isnan(b);
    return a != b && !(fabs(a - b) <= 1e-9 * fmax(1.0, fmax(fabs(a), fabs(b))));
}

static void place_time(vd_report_t *r, row_facts_t *f) {
    int64_t t = f->row->time_ms;
    f->time_bin = -1;
    if (t == VD_REPLAY_NO_TIME) return;
    if (r->timed == 0 || t < r->first_ms) r->first_ms = t;
    if (r->timed == 0 || t > r->last_ms) r->last_ms = t;
    r->timed++;
    vd_axis_t was;
    if (vd_axis_fit(&r->time_axis, t, &was)) {
        vd_agg_t *aggs[VD_REPORT_MAX_PIPELINES + 1] = {&r->all};
        memcpy(aggs + 1, r->pipes, sizeof r->pipes);
        for (size_t i = 0; i <= VD_REPORT_MAX_PIPELINES; i++) {
            if (!aggs[i]) continue;
            vd_axis_remap(&was, &r->time_axis, aggs[i]->time_n);
            vd_axis_remap(&was, &r->time_axis, aggs[i]->time_changed);
        }
    }
    f->time_bin = vd_axis_bin(&r->time_axis, t);
}

int vd_report_add(vd_report_t *r, const vd_replay_row_t *row) {
    if (!r || !row) return VD_EINVAL;
    if ((!row->before.rules && row->before.nrules) || (!row->after.rules && row->after.nrules))
        return VD_EINVAL;
    uint64_t seq = r->rows + 1;
    r->calls++;
    int rc = 0;
    /* First everything that can fail; the counting after it cannot. */
    vd_agg_t *pa = pipeline_agg(r, row->pipeline ? row->pipeline : "(unknown)", &rc);
    if (!pa) return rc;
    row_facts_t f = {.row = row};
    f.act[VD_SIDE_BEFORE] = action_id(r, row->before.action, &rc);
    if (rc == 0) f.act[VD_SIDE_AFTER] = action_id(r, row->after.action, &rc);
    if (rc == 0) rc = collect_rules(r, VD_SIDE_BEFORE, &row->before);
    if (rc == 0) rc = collect_rules(r, VD_SIDE_AFTER, &row->after);
    uint32_t end = vd__names_end(&r->rules);
    if (rc == 0) rc = ensure_rules(&r->all, end);
    if (rc == 0) rc = ensure_rules(pa, end);
    if (rc != 0) return rc;
    f.label = row->label < 0 ? VD_LABEL_UNKNOWN : row->label == 0 ? VD_LABEL_GOOD : VD_LABEL_BAD;
    f.changed = f.act[VD_SIDE_BEFORE] != f.act[VD_SIDE_AFTER];
    if (f.act[VD_SIDE_BEFORE] != VD_ACT_NONE && f.act[VD_SIDE_AFTER] != VD_ACT_NONE) {
        f.score_changed = scores_differ(row->before.score, row->after.score);
        f.rules_changed = rules_differ(r);
    }
    if (f.changed) {
        vd_sample_in_t in = {.row = row, .seq = seq, .pipeline = pa->pipeline};
        for (int s = 0; s < VD_SIDES; s++) {
            in.action[s] = f.act[s];
            in.rules[s] = r->row_rules[s];
            in.nrules[s] = r->nrow_rules[s];
        }
        if ((rc = vd__samples_offer(&pa->samples, r->nfirst, r->nreservoir, &in)) != 0) return rc;
    }
    r->rows = seq;
    place_time(r, &f);
    count_row(r, &r->all, &f);
    count_row(r, pa, &f);
    return 0;
}

int vd_report_write_text(const vd_report_t *r, FILE *out) {
    return vd__report_text(r, out);
}

int vd_report_write_json(const vd_report_t *r, FILE *out) {
    return vd__report_json(r, out);
}

int vd_report_write_html(const vd_report_t *r, FILE *out) {
    return vd__report_html(r, out);
}
