/* The report for a terminal: one block per section (all pipelines when there are several,
 * then each pipeline), tables aligned, data escaped so that it cannot drive the terminal.
 * The JSON output has everything; this shows what an analyst reads first. */
#include "report_text.h"

#include "base/error.h"
#include "replay/escape.h"
#include "replay/names.h"
#include "replay/report_sample.h"
#include "replay/report_view.h"
#include "replay/text_table.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define NAME_MAX_CHARS   48 /* rule, action and pipeline names in tables */
#define RULES_SHOWN      40
#define BAR_CHARS        24
#define REASON_MAX_CHARS 160

/* The side names, escaped once. */
typedef struct names {
    char *before, *after;
} names_t;

static int print_table(vd_ttable_t *t, FILE *out) {
    int rc = vd_ttable_print(t, out, 2);
    vd_ttable_free(t);
    fputc('\n', out);
    return rc;
}

static void summary(FILE *out, const names_t *nm, const vd_agg_t *a) {
    char n[32], c[32], cs[32], sc[32], scs[32], rc[32], rcs[32], mb[32], ma[32], md[32];
    vd__fmt_count(n, a->rows);
    vd__fmt_count(c, a->changed);
    vd__fmt_share(cs, vd__ratio((double)a->changed, (double)a->rows));
    vd__fmt_count(sc, a->score_changed);
    vd__fmt_share(scs, vd__ratio((double)a->score_changed, (double)a->rows));
    vd__fmt_count(rc, a->rules_changed);
    vd__fmt_share(rcs, vd__ratio((double)a->rules_changed, (double)a->rows));
    double b = vd__ratio(a->score_sum[VD_SIDE_BEFORE], (double)a->score_n[VD_SIDE_BEFORE]);
    double f = vd__ratio(a->score_sum[VD_SIDE_AFTER], (double)a->score_n[VD_SIDE_AFTER]);
    vd__fmt_num(mb, b, 4);
    vd__fmt_num(ma, f, 4);
    vd__fmt_delta(md, f - b, 3);
    fprintf(out, "Changed action: %s of %s (%s); score changed: %s (%s); rules changed: %s (%s)\n",
            c, n, cs, sc, scs, rc, rcs);
    fprintf(out, "Mean score: %s -> %s (%s)\n", mb, ma, md);
    if (a->missing[VD_SIDE_BEFORE] || a->missing[VD_SIDE_AFTER]) {
        vd__fmt_count(mb, a->missing[VD_SIDE_BEFORE]);
        vd__fmt_count(ma, a->missing[VD_SIDE_AFTER]);
        fprintf(out, "No decision: %s in %s, %s in %s\n", mb, nm->before, ma, nm->after);
    }
    if (a->nonfinite[VD_SIDE_BEFORE] || a->nonfinite[VD_SIDE_AFTER]) {
        vd__fmt_count(mb, a->nonfinite[VD_SIDE_BEFORE]);
        vd__fmt_count(ma, a->nonfinite[VD_SIDE_AFTER]);
        fprintf(out, "Scores that are not numbers: %s in %s, %s in %s\n", mb, nm->before, ma,
                nm->after);
    }
    fputc('\n', out);
}

static int actions(FILE *out, const vd_report_t *r, const names_t *nm, const vd_agg_t *a) {
    uint32_t order[VD_ACT_SLOTS];
    size_t n = vd__view_matrix_order(r, a, order);
    if (!n) return 0;
    fputs("Actions (mildest first, by mean score)\n", out);
    vd_ttable_t t;
    vd_ttable_init(&t, "lrrrrr");
    vd_ttable_add(&t, "action");
    vd_ttable_add(&t, nm->before);
    vd_ttable_add(&t, nm->after);
    vd_ttable_add(&t, "change");
    vd_ttable_add(&t, "relative");
    vd_ttable_add(&t, "mean score");
    for (size_t i = 0; i < n; i++) {
        uint64_t b = vd__view_total(a, VD_SIDE_BEFORE, order[i]);
        uint64_t f = vd__view_total(a, VD_SIDE_AFTER, order[i]);
        char cb[32], cf[32], ch[32], rel[32], mean[32];
        vd__fmt_count(cb, b);
        vd__fmt_count(cf, f);
        vd__fmt_change(ch, b, f);
        vd__fmt_share(rel, vd__ratio((double)f - (double)b, (double)b));
        vd__fmt_num(mean, vd__view_action_mean(a, order[i]), 4);
        vd_ttable_data(&t, vd__view_action_name(r, order[i]), NAME_MAX_CHARS);
        vd_ttable_add(&t, cb);
        vd_ttable_add(&t, cf);
        vd_ttable_add(&t, ch);
        vd_ttable_add(&t, rel);
        vd_ttable_add(&t, mean);
    }
    int rc = print_table(&t, out);
    if (rc != 0) return rc;

    fprintf(out, "Transitions (rows: %s, columns: %s; * marks a changed action)\n", nm->before,
            nm->after);
    char align[VD_ACT_SLOTS + 2] = "l";
    memset(align + 1, 'r', n);
    align[n + 1] = '\0';
    vd_ttable_init(&t, align);
    vd_ttable_add(&t, "");
    for (size_t j = 0; j < n; j++)
        vd_ttable_data(&t, vd__view_action_name(r, order[j]), NAME_MAX_CHARS);
    for (size_t i = 0; i < n; i++) {
        vd_ttable_data(&t, vd__view_action_name(r, order[i]), NAME_MAX_CHARS);
        for (size_t j = 0; j < n; j++) {
            char c[32];
            uint64_t v = a->matrix[order[i]][order[j]];
            vd__fmt_count(c, v);
            vd_ttable_addf(&t, "%s%s", i != j && v ? "*" : "", c);
        }
    }
    return print_table(&t, out);
}

static int rules(FILE *out, const vd_report_t *r, const names_t *nm, const vd_agg_t *a) {
    uint32_t *ids;
    size_t n;
    if (vd__view_rules(r, a, &ids, &n) != 0) return VD_ENOMEM;
    if (!n) {
        free(ids);
        return 0;
    }
    int labelled = a->labels[VD_LABEL_BAD] || a->labels[VD_LABEL_GOOD];
    size_t shown = n < RULES_SHOWN ? n : RULES_SHOWN;
    fprintf(out, "Rules (decisions they fired in, by absolute change");
    if (shown < n) fprintf(out, "; the first %zu of %zu", shown, n);
    fputs(")\n", out);
    vd_ttable_t t;
    vd_ttable_init(&t, labelled ? "lrrrrrr" : "lrrrr");
    vd_ttable_add(&t, "rule");
    vd_ttable_add(&t, nm->before);
    vd_ttable_add(&t, nm->after);
    vd_ttable_add(&t, "change");
    vd_ttable_add(&t, "relative");
    if (labelled) {
        vd_ttable_add(&t, "bad hits");
        vd_ttable_add(&t, "good hits");
    }
    for (size_t i = 0; i < shown; i++) {
        const vd_rule_stat_t *s = &a->rules[ids[i]];
        char cb[32], cf[32], ch[32], rel[32];
        vd__fmt_count(cb, s->fired[VD_SIDE_BEFORE]);
        vd__fmt_count(cf, s->fired[VD_SIDE_AFTER]);
        vd__fmt_change(ch, s->fired[VD_SIDE_BEFORE], s->fired[VD_SIDE_AFTER]);
        if (!s->fired[VD_SIDE_BEFORE])
            snprintf(rel, sizeof rel, "new");
        else if (!s->fired[VD_SIDE_AFTER])
            snprintf(rel, sizeof rel, "gone");
        else
            vd__fmt_share(rel, vd__view_rule_relative(s));
        vd_ttable_data(&t, vd__names_get(&r->rules, ids[i]), NAME_MAX_CHARS);
        vd_ttable_add(&t, cb);
        vd_ttable_add(&t, cf);
        vd_ttable_add(&t, ch);
        vd_ttable_add(&t, rel);
        if (labelled) {
            char x[32], y[32];
            vd__fmt_count(x, s->bad[VD_SIDE_BEFORE]);
            vd__fmt_count(y, s->bad[VD_SIDE_AFTER]);
            vd_ttable_addf(&t, "%s -> %s", x, y);
            vd__fmt_count(x, s->good[VD_SIDE_BEFORE]);
            vd__fmt_count(y, s->good[VD_SIDE_AFTER]);
            vd_ttable_addf(&t, "%s -> %s", x, y);
        }
    }
    free(ids);
    return print_table(&t, out);
}

static void metric_cells(vd_ttable_t *t, const char *side, const vd_confusion_t *c) {
    char v[7][32];
    vd__fmt_count(v[0], c->tp);
    vd__fmt_count(v[1], c->fp);
    vd__fmt_count(v[2], c->fn);
    vd__fmt_count(v[3], c->tn);
    vd__fmt_rate(v[4], c->precision, 0);
    vd__fmt_rate(v[5], c->recall, 0);
    vd__fmt_rate(v[6], c->fpr, 0);
    vd_ttable_add(t, side);
    for (int i = 0; i < 7; i++)
        vd_ttable_add(t, v[i]);
}

static int labels(FILE *out, const vd_report_t *r, const names_t *nm, const vd_agg_t *a) {
    if (!a->labels[VD_LABEL_BAD] && !a->labels[VD_LABEL_GOOD]) return 0;
    char bad[32], good[32], unk[32], ev[32];
    vd__fmt_count(bad, a->labels[VD_LABEL_BAD]);
    vd__fmt_count(good, a->labels[VD_LABEL_GOOD]);
    vd__fmt_count(unk, a->labels[VD_LABEL_UNKNOWN]);
    vd__fmt_count(ev, vd__view_labelled(a));
    fprintf(out, "Labels: %s bad, %s good, %s unlabelled; %s labelled rows decided on both sides\n",
            bad, good, unk, ev);
    uint32_t order[VD_ACT_SLOTS];
    size_t n = vd__view_actions(r, a, order);
    vd_metric_t m[VD_MAX_METRICS];
    size_t nm_ = vd__view_metrics(a, order, n, m);
    if (!nm_) {
        fputs("  (one action only: nothing to predict)\n\n", out);
        return 0;
    }
    char *def = vd_esc_text(vd__view_action_name(r, order[0]),
                            strlen(vd__view_action_name(r, order[0])), NAME_MAX_CHARS);
    if (!def) return VD_ENOMEM;
    fprintf(
        out,
        "Bad is the positive class. \"X\" predicts bad when the action is X, \"X+\" when it is X "
        "or harsher\n(by mean score); %s is the default, so the first \"+\" row is every "
        "decision flagged.\n",
        def);
    free(def);
    vd_ttable_t t;
    vd_ttable_init(&t, "llrrrrrrr");
    const char *head[] = {"prediction", "", "TP", "FP", "FN", "TN", "precision", "recall", "FPR"};
    for (size_t i = 0; i < sizeof head / sizeof *head; i++)
        vd_ttable_add(&t, head[i]);
    for (size_t i = 0; i < nm_; i++) {
        char *name = vd_esc_text(vd__view_action_name(r, m[i].action),
                                 strlen(vd__view_action_name(r, m[i].action)), NAME_MAX_CHARS);
        vd_ttable_addf(&t, "%s%s", name ? name : "", m[i].at_least ? "+" : "");
        free(name);
        metric_cells(&t, nm->before, &m[i].side[VD_SIDE_BEFORE]);
        vd_ttable_add(&t, "");
        metric_cells(&t, nm->after, &m[i].side[VD_SIDE_AFTER]);
        const vd_confusion_t *b = &m[i].side[VD_SIDE_BEFORE], *f = &m[i].side[VD_SIDE_AFTER];
        char d[3][32];
        vd__fmt_rate(d[0], f->precision - b->precision, 1);
        vd__fmt_rate(d[1], f->recall - b->recall, 1);
        vd__fmt_rate(d[2], f->fpr - b->fpr, 1);
        const char *row[] = {"", "change", "", "", "", "", d[0], d[1], d[2]};
        for (size_t k = 0; k < sizeof row / sizeof *row; k++)
            vd_ttable_add(&t, row[k]);
    }
    return print_table(&t, out);
}

static void bar(char *buf, uint64_t v, uint64_t max) {
    size_t n = max ? (size_t)((double)v / (double)max * BAR_CHARS + 0.5) : 0;
    if (v && !n) n = 1;
    memset(buf, '#', n);
    buf[n] = '\0';
}

static int scores(FILE *out, const names_t *nm, const vd_agg_t *a) {
    if (!a->score_axis.n) return 0;
    char w[32];
    vd__fmt_num(w, (double)vd_axis_width(&a->score_axis) / VD_SCORE_TICKS, 6);
    fprintf(out, "Scores (bins of %s)\n", w);
    uint64_t max = 0;
    for (int i = 0; i < a->score_axis.n; i++)
        for (int s = 0; s < VD_SIDES; s++)
            if (a->score_bins[s][i] > max) max = a->score_bins[s][i];
    vd_ttable_t t;
    vd_ttable_init(&t, "rrlrl");
    vd_ttable_add(&t, "from");
    vd_ttable_add(&t, nm->before);
    vd_ttable_add(&t, "");
    vd_ttable_add(&t, nm->after);
    vd_ttable_add(&t, "");
    for (int i = 0; i < a->score_axis.n; i++) {
        char from[32], c[32], b[BAR_CHARS + 1];
        vd__fmt_num(from, vd__view_score_bin(a, i), 6);
        vd_ttable_add(&t, from);
        for (int s = 0; s < VD_SIDES; s++) {
            vd__fmt_count(c, a->score_bins[s][i]);
            bar(b, a->score_bins[s][i], max);
            vd_ttable_add(&t, c);
            vd_ttable_add(&t, b);
        }
    }
    return print_table(&t, out);
}

static int time_series(FILE *out, const vd_report_t *r, const vd_agg_t *a) {
    int first = -1, last = -1;
    for (int i = 0; i < r->time_axis.n; i++) {
        if (!a->time_n[i]) continue;
        if (first < 0) first = i;
        last = i;
    }
    if (first < 0) return 0;
    int64_t width = vd_axis_width(&r->time_axis);
    char w[32];
    vd__view_width(w, width);
    fprintf(out, "Over time (buckets of %s, UTC)\n", w);
    vd_ttable_t t;
    vd_ttable_init(&t, "lrrr");
    vd_ttable_add(&t, "from");
    vd_ttable_add(&t, "decisions");
    vd_ttable_add(&t, "changed");
    vd_ttable_add(&t, "share");
    for (int i = first; i <= last; i++) {
        char when[48], n[32], c[32], s[32];
        vd__view_time(when, vd_axis_bin_start(&r->time_axis, i), width);
        vd__fmt_count(n, a->time_n[i]);
        vd__fmt_count(c, a->time_changed[i]);
        vd__fmt_share(s, vd__ratio((double)a->time_changed[i], (double)a->time_n[i]));
        vd_ttable_add(&t, when);
        vd_ttable_add(&t, n);
        vd_ttable_add(&t, c);
        vd_ttable_add(&t, s);
    }
    return print_table(&t, out);
}

static int sample_side(vd_ttable_t *t, const vd_report_t *r, const char *side,
                       const vd_sample_side_t *s) {
    char score[32];
    vd__fmt_num(score, s->action == VD_ACT_NONE ? NAN : s->score, 6);
    char *raw = vd__view_reasons(r, s);
    char *reasons = raw ? vd_esc_text(raw, strlen(raw), REASON_MAX_CHARS) : NULL;
    free(raw);
    if (!reasons) return VD_ENOMEM;
    vd_ttable_add(t, "");
    vd_ttable_add(t, side);
    vd_ttable_data(t, vd__view_action_name(r, s->action), NAME_MAX_CHARS);
    vd_ttable_add(t, score);
    vd_ttable_add(t, reasons);
    free(reasons);
    return 0;
}

static int samples(FILE *out, const vd_report_t *r, const names_t *nm, const vd_agg_t *a) {
    size_t n;
    const vd_sample_t **items = vd__samples_sorted(&a->samples, &n);
    if (n == SIZE_MAX) return VD_ENOMEM;
    if (!n) return 0;
    char later[32];
    vd__fmt_count(later, a->samples.later);
    fprintf(out, "Samples of changed decisions: the first %zu", a->samples.nfirst);
    if (a->samples.nreservoir)
        fprintf(out, ", then %zu drawn uniformly from the %s after them", a->samples.nreservoir,
                later);
    fputs("\n", out);
    vd_ttable_t t;
    vd_ttable_init(&t, "rllrl");
    const char *head[] = {"#", "", "action", "score", "id, time, label / reasons"};
    for (size_t i = 0; i < 5; i++)
        vd_ttable_add(&t, head[i]);
    int rc = 0;
    for (size_t i = 0; i < n && rc == 0; i++) {
        const vd_sample_t *x = items[i];
        char when[48] = "no time";
        if (x->time_ms != VD_REPLAY_NO_TIME) vd__view_time(when, x->time_ms, 0);
        char *id = vd_esc_text(x->id ? x->id : "(no id)", strlen(x->id ? x->id : "(no id)"), 64);
        vd_ttable_addf(&t, "%llu", (unsigned long long)x->seq);
        vd_ttable_add(&t, "");
        vd_ttable_add(&t, "");
        vd_ttable_add(&t, "");
        vd_ttable_addf(&t, "%s  %s%s", id ? id : "", when,
                       x->label < 0 ? ""
                       : x->label   ? "  label bad"
                                    : "  label good");
        free(id);
        rc = sample_side(&t, r, nm->before, &x->side[VD_SIDE_BEFORE]);
        if (rc == 0) rc = sample_side(&t, r, nm->after, &x->side[VD_SIDE_AFTER]);
    }
    free(items);
    if (rc != 0) {
        vd_ttable_free(&t);
        return rc;
    }
    return print_table(&t, out);
}

static int section(FILE *out, const vd_report_t *r, const names_t *nm, const vd_agg_t *a) {
    char *title = vd_esc_text(vd__view_title(r, a), strlen(vd__view_title(r, a)), NAME_MAX_CHARS);
    if (!title) return VD_ENOMEM;
    char n[32];
    vd__fmt_count(n, a->rows);
    fprintf(out, "=== %s: %s decisions ===\n\n", title, n);
    free(title);
    summary(out, nm, a);
    int rc = actions(out, r, nm, a);
    if (rc == 0) rc = rules(out, r, nm, a);
    if (rc == 0) rc = labels(out, r, nm, a);
    if (rc == 0) rc = scores(out, nm, a);
    if (rc == 0) rc = time_series(out, r, a);
    if (rc == 0) rc = samples(out, r, nm, a);
    return rc;
}

int vd__report_text(const vd_report_t *r, FILE *out) {
    names_t nm = {vd_esc_text(r->before_name, strlen(r->before_name), NAME_MAX_CHARS),
                  vd_esc_text(r->after_name, strlen(r->after_name), NAME_MAX_CHARS)};
    int rc = nm.before && nm.after ? 0 : VD_ENOMEM;
    if (rc == 0) {
        char rows[32];
        vd__fmt_count(rows, r->rows);
        fprintf(out, "Backtest: %s -> %s, %s decisions", nm.before, nm.after, rows);
        if (r->timed) {
            char first[48], last[48];
            vd__view_time(first, r->first_ms, 0);
            vd__view_time(last, r->last_ms, 0);
            fprintf(out, " from %s to %s", first, last);
        }
        fputs("\n\n", out);
        const vd_agg_t *secs[VD_REPORT_MAX_PIPELINES + 1];
        size_t n = vd__view_sections(r, secs);
        for (size_t i = 0; i < n && rc == 0; i++)
            rc = section(out, r, &nm, secs[i]);
    }
    free(nm.before);
    free(nm.after);
    if (rc == 0 && ferror(out)) rc = VD_EIO;
    return rc;
}
