#include "report_view.h"

#include "base/error.h"
#include "replay/names.h"
#include "replay/report_sample.h"

#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

double vd__ratio(double num, double den) {
    return den == 0 ? NAN : num / den;
}

uint64_t vd__view_total(const vd_agg_t *a, int side, uint32_t act) {
    uint64_t n = 0;
    for (uint32_t i = 0; i < VD_ACT_SLOTS; i++)
        n += side == VD_SIDE_BEFORE ? a->matrix[act][i] : a->matrix[i][act];
    return n;
}

double vd__view_action_mean(const vd_agg_t *a, uint32_t act) {
    return vd__ratio(a->act_score_sum[act], (double)a->act_score_n[act]);
}

const char *vd__view_action_name(const vd_report_t *r, uint32_t act) {
    return act == VD_ACT_NONE ? "(none)" : vd__names_get(&r->actions, act);
}

/* qsort has no context argument: sorts go through arrays of keys. */
typedef struct action_key {
    uint32_t id;
    double mean;
    const char *name;
} action_key_t;

static int by_mean(const void *x, const void *y) {
    const action_key_t *a = x, *b = y;
    int na = isnan(a->mean), nb = isnan(b->mean);
    if (na != nb) return na - nb;
    if (!na && a->mean != b->mean) return a->mean < b->mean ? -1 : 1;
    return strcmp(a->name, b->name);
}

size_t vd__view_actions(const vd_report_t *r, const vd_agg_t *a, uint32_t *out) {
    action_key_t keys[VD_ACT_SLOTS];
    size_t n = 0;
    for (uint32_t id = 1; id < vd__names_end(&r->actions); id++) {
        if (!vd__view_total(a, VD_SIDE_BEFORE, id) && !vd__view_total(a, VD_SIDE_AFTER, id))
            continue;
        keys[n++] = (action_key_t){id, vd__view_action_mean(a, id), vd__names_get(&r->actions, id)};
    }
    qsort(keys, n, sizeof *keys, by_mean);
    for (size_t i = 0; i < n; i++)
        out[i] = keys[i].id;
    return n;
}

size_t vd__view_matrix_order(const vd_report_t *r, const vd_agg_t *a, uint32_t out[VD_ACT_SLOTS]) {
    size_t k = 0;
    if (a->missing[VD_SIDE_BEFORE] || a->missing[VD_SIDE_AFTER]) out[k++] = VD_ACT_NONE;
    return k + vd__view_actions(r, a, out + k);
}

typedef struct rule_key {
    uint32_t id;
    uint64_t change, hits;
    const char *name;
} rule_key_t;

static int by_change(const void *x, const void *y) {
    const rule_key_t *a = x, *b = y;
    if (a->change != b->change) return a->change > b->change ? -1 : 1;
    if (a->hits != b->hits) return a->hits > b->hits ? -1 : 1;
    return strcmp(a->name, b->name);
}

int vd__view_rules(const vd_report_t *r, const vd_agg_t *a, uint32_t **ids, size_t *n) {
    *ids = NULL;
    *n = 0;
    rule_key_t *keys = malloc((a->nrules ? a->nrules : 1) * sizeof *keys);
    if (!keys) return VD_ENOMEM;
    size_t k = 0;
    for (uint32_t id = 0; id < a->nrules; id++) {
        const vd_rule_stat_t *s = &a->rules[id];
        uint64_t b = s->fired[VD_SIDE_BEFORE], f = s->fired[VD_SIDE_AFTER];
        if (!b && !f) continue;
        keys[k++] = (rule_key_t){id, b > f ? b - f : f - b, b + f, vd__names_get(&r->rules, id)};
    }
    qsort(keys, k, sizeof *keys, by_change);
    uint32_t *out = malloc((k ? k : 1) * sizeof *out);
    if (!out) {
        free(keys);
        return VD_ENOMEM;
    }
    for (size_t i = 0; i < k; i++)
        out[i] = keys[i].id;
    free(keys);
    *ids = out;
    *n = k;
    return 0;
}

double vd__view_rule_relative(const vd_rule_stat_t *s) {
    double b = (double)s->fired[VD_SIDE_BEFORE], f = (double)s->fired[VD_SIDE_AFTER];
    return vd__ratio(f - b, b);
}

/* Confusion counts with the positive prediction "action in set" (set[id] != 0). */
static vd_confusion_t confusion(const vd_agg_t *a, int side, const char set[VD_ACT_SLOTS]) {
    vd_confusion_t c = {0};
    for (uint32_t id = 1; id < VD_ACT_SLOTS; id++) {
        uint64_t bad = a->by_label[side][VD_LABEL_BAD][id];
        uint64_t good = a->by_label[side][VD_LABEL_GOOD][id];
        if (set[id]) {
            c.tp += bad;
            c.fp += good;
        } else {
            c.fn += bad;
            c.tn += good;
        }
    }
    c.precision = vd__ratio((double)c.tp, (double)(c.tp + c.fp));
    c.recall = vd__ratio((double)c.tp, (double)(c.tp + c.fn));
    c.fpr = vd__ratio((double)c.fp, (double)(c.fp + c.tn));
    return c;
}

static vd_metric_t metric(const vd_agg_t *a, const uint32_t *order, size_t n, size_t i,
                          int at_least) {
    char set[VD_ACT_SLOTS] = {0};
    for (size_t j = i; j < (at_least ? n : i + 1); j++)
        set[order[j]] = 1;
    vd_metric_t m = {.action = order[i], .at_least = at_least};
    for (int s = 0; s < VD_SIDES; s++)
        m.side[s] = confusion(a, s, set);
    return m;
}

size_t vd__view_metrics(const vd_agg_t *a, const uint32_t *order, size_t n, vd_metric_t *out) {
    size_t k = 0;
    for (size_t i = 1; i < n; i++) {
        out[k++] = metric(a, order, n, i, 0);
        if (i + 1 < n) out[k++] = metric(a, order, n, i, 1);
    }
    return k;
}

uint64_t vd__view_labelled(const vd_agg_t *a) {
    uint64_t n = 0;
    for (uint32_t id = 1; id < VD_ACT_SLOTS; id++)
        n += a->by_label[VD_SIDE_BEFORE][VD_LABEL_BAD][id] +
             a->by_label[VD_SIDE_BEFORE][VD_LABEL_GOOD][id];
    return n;
}

void vd__view_time(char buf[48], int64_t ms, int64_t width) {
    int64_t s = ms / 1000, rem = ms % 1000;
    if (rem < 0) {
        s--;
        rem += 1000;
    }
    time_t t = (time_t)s;
    struct tm tm;
    if (!gmtime_r(&t, &tm) || tm.tm_year > 9999 - 1900 || tm.tm_year < -1900) {
        snprintf(buf, 48, "%lld ms", (long long)ms);
        return;
    }
    const char *fmt = width == 0          ? "%Y-%m-%dT%H:%M:%S"
                      : width >= 86400000 ? "%Y-%m-%d"
                      : width >= 60000    ? "%Y-%m-%d %H:%M"
                                          : "%Y-%m-%d %H:%M:%S";
    size_t len = strftime(buf, 48, fmt, &tm);
    if (width == 0) snprintf(buf + len, 48 - len, ".%03dZ", (int)rem);
}

void vd__view_width(char buf[32], int64_t ms) {
    static const struct {
        int64_t ms;
        const char *unit;
    } units[] = {{86400000, "day"}, {3600000, "h"}, {60000, "min"}, {1000, "s"}};
    for (size_t i = 0; i < sizeof units / sizeof *units; i++) {
        if (ms % units[i].ms) continue;
        long long v = (long long)(ms / units[i].ms);
        snprintf(buf, 32, "%lld %s%s", v, units[i].unit, i == 0 && v != 1 ? "s" : "");
        return;
    }
    snprintf(buf, 32, "%lld ms", (long long)ms);
}

static int by_name(const void *x, const void *y) {
    const char *const *a = x, *const *b = y;
    return strcmp(*a, *b);
}

size_t vd__view_sections(const vd_report_t *r, const vd_agg_t *out[VD_REPORT_MAX_PIPELINES + 1]) {
    /* Sort names with their aggregate behind them: the name pointer leads the pair. */
    struct pair {
        const char *name;
        const vd_agg_t *agg;
    } pairs[VD_REPORT_MAX_PIPELINES];
    size_t n = 0, k = 0;
    for (uint32_t id = 0; id < vd__names_end(&r->pipelines); id++)
        if (r->pipes[id])
            pairs[n++] = (struct pair){vd__names_get(&r->pipelines, id), r->pipes[id]};
    qsort(pairs, n, sizeof *pairs, by_name);
    if (n != 1) out[k++] = &r->all;
    for (size_t i = 0; i < n; i++)
        out[k++] = pairs[i].agg;
    return k;
}

const char *vd__view_title(const vd_report_t *r, const vd_agg_t *a) {
    return a->pipeline == UINT32_MAX ? "all pipelines" : vd__names_get(&r->pipelines, a->pipeline);
}

double vd__view_score_bin(const vd_agg_t *a, int bin) {
    return (double)vd_axis_bin_start(&a->score_axis, bin) / VD_SCORE_TICKS;
}

void vd__fmt_count(char buf[32], uint64_t v) {
    char digits[24];
    int n = snprintf(digits, sizeof digits, "%llu", (unsigned long long)v), o = 0;
    for (int i = 0; i < n; i++) {
        if (i && (n - i) % 3 == 0) buf[o++] = ',';
        buf[o++] = digits[i];
    }
    buf[o] = '\0';
}

void vd__fmt_change(char buf[32], uint64_t before, uint64_t after) {
    if (before == after) {
        snprintf(buf, 32, "0");
        return;
    }
    char n[32];
    vd__fmt_count(n, after > before ? after - before : before - after);
    snprintf(buf, 32, "%c%.27s", after > before ? '+' : '-', n); /* at most 26 */
}

void vd__fmt_share(char buf[32], double ratio) {
    if (isnan(ratio))
        snprintf(buf, 32, "-");
    else
        snprintf(buf, 32, "%.1f%%", 100 * ratio);
}

void vd__fmt_num(char buf[32], double v, int digits) {
    if (isnan(v))
        snprintf(buf, 32, "-");
    else
        snprintf(buf, 32, "%.*g", digits, v);
}

void vd__fmt_delta(char buf[32], double v, int digits) {
    if (isnan(v))
        snprintf(buf, 32, "-");
    else if (v == 0)
        snprintf(buf, 32, "0");
    else
        snprintf(buf, 32, "%+.*g", digits, v);
}

void vd__fmt_rate(char buf[32], double v, int sign) {
    if (isnan(v))
        snprintf(buf, 32, "-");
    else if (sign && fabs(v) < 0.0005)
        snprintf(buf, 32, "0.000"); /* not "-0.000" */
    else
        snprintf(buf, 32, sign ? "%+.3f" : "%.3f", v);
}

char *vd__view_reasons(const vd_report_t *r, const vd_sample_side_t *s) {
    char *text = NULL;
    size_t len = 0;
    FILE *m = open_memstream(&text, &len);
    if (!m) return NULL;
    json_t *v = s->reasons ? json_loads(s->reasons, JSON_DECODE_ANY, NULL) : NULL;
    if (json_is_array(v)) {
        size_t i;
        json_t *e;
        json_array_foreach(v, i, e) {
            const char *rule = json_string_value(json_object_get(e, "rule"));
            json_t *score = json_object_get(e, "score");
            const char *detail = json_string_value(json_object_get(e, "detail"));
            if (i) fputs("; ", m);
            if (!rule) {
                char *raw = json_dumps(e, JSON_COMPACT | JSON_ENCODE_ANY);
                fputs(raw ? raw : "?", m);
                free(raw);
                continue;
            }
            fputs(rule, m);
            if (json_is_number(score)) fprintf(m, " %+g", json_number_value(score));
            if (detail) fprintf(m, " (%s)", detail);
        }
        if (!json_array_size(v)) fputs("(no reasons)", m);
    } else if (s->reasons) {
        fputs(s->reasons, m);
    } else if (!s->nrules) {
        fputs("(no reasons)", m);
    } else {
        for (size_t i = 0; i < s->nrules; i++)
            fprintf(m, "%s%s", i ? ", " : "", vd__names_get(&r->rules, s->rules[i]));
    }
    json_decref(v);
    if (fclose(m) != 0) {
        free(text);
        return NULL;
    }
    return text;
}
