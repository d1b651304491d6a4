/* The report as one HTML page that works offline and from a mail attachment: inline CSS, SVG
 * charts drawn by svg.c, no script, no fonts or images fetched. The markup is also
 * well-formed XML (every element closed, attributes quoted, only the XML entities), so that
 * strict tools can check it. Everything from data goes through vd_esc_html. */
#include "report_html.h"

#include "base/error.h"
#include "replay/escape.h"
#include "replay/names.h"
#include "replay/report_sample.h"
#include "replay/report_view.h"
#include "replay/svg.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define RULES_CHARTED 25
#define RULES_LISTED  500
#define COLOR_BEFORE  "#8c96a8"
#define COLOR_AFTER   "#d9480f"
#define COLOR_TOTAL   "#4c78a8"

static const char css[] =
    "body{font:14px/1.45 system-ui,-apple-system,'Segoe UI',Roboto,sans-serif;margin:0;"
    "color:#1d2433;background:#f5f6f8}"
    "header{background:#1d2433;color:#fff;padding:14px 28px}"
    "header h1{font-size:20px;margin:0 0 4px}"
    "nav a{color:#c8d1e0;margin-right:14px}"
    "main{max-width:1120px;margin:0 auto;padding:8px 28px 40px}"
    "section{background:#fff;border:1px solid #dde1e7;border-radius:6px;padding:6px 22px 16px;"
    "margin:18px 0}"
    "h2{font-size:18px;margin:12px 0}h3{font-size:15px;margin:20px 0 6px}"
    "table{border-collapse:collapse;margin:6px 0}"
    "th,td{padding:3px 10px;text-align:right;border-bottom:1px solid #eceff3;"
    "vertical-align:top}"
    "th{font-weight:600;background:#f0f2f5}"
    "td.l,th.l{text-align:left}"
    "td.same{color:#667085}td.chg{font-weight:600}"
    ".cards{display:flex;flex-wrap:wrap;gap:10px}"
    ".card{border:1px solid #dde1e7;border-radius:6px;padding:6px 14px;min-width:130px}"
    ".card b{display:block;font-size:20px}"
    ".up{color:#b54708}.down{color:#175cd3}"
    ".mono{font-family:ui-monospace,SFMono-Regular,Menlo,monospace;font-size:12px}"
    ".note{color:#667085;font-size:13px}"
    "svg.chart{display:block;margin:6px 0;max-width:100%;height:auto}"
    "svg .grid{stroke:#eceff3}svg .base{stroke:#98a2b3}"
    "svg text{font-size:11px;fill:#475467}svg .lg{font-size:12px;fill:#1d2433}"
    "svg .val{font-size:10px}";

static void esc(FILE *out, const char *s) {
    vd_esc_html(out, s, strlen(s));
}

static void cell_count(FILE *out, uint64_t v) {
    char b[32];
    vd__fmt_count(b, v);
    fprintf(out, "<td>%s</td>", b);
}

/* A change, coloured by its direction only: whether more is better depends on the action. */
static void cell_change(FILE *out, uint64_t before, uint64_t after) {
    char b[32];
    vd__fmt_change(b, before, after);
    if (after == before)
        fprintf(out, "<td>%s</td>", b);
    else
        fprintf(out, "<td class=\"%s\">%s</td>", after > before ? "up" : "down", b);
}

static void card(FILE *out, const char *title, const char *value, const char *note) {
    fprintf(out, "<div class=\"card\">%s<b>%s</b><span class=\"note\">", title, value);
    esc(out, note);
    fputs("</span></div>\n", out);
}

static void summary(FILE *out, const vd_report_t *r, const vd_agg_t *a) {
    char v[32], s[32], n[80], mb[32], ma[32];
    fputs("<div class=\"cards\">\n", out);
    vd__fmt_count(v, a->rows);
    card(out, "decisions", v, "");
    vd__fmt_count(v, a->changed);
    vd__fmt_share(s, vd__ratio((double)a->changed, (double)a->rows));
    card(out, "changed action", v, s);
    vd__fmt_count(v, a->score_changed);
    vd__fmt_share(s, vd__ratio((double)a->score_changed, (double)a->rows));
    card(out, "score changed", v, s);
    vd__fmt_count(v, a->rules_changed);
    vd__fmt_share(s, vd__ratio((double)a->rules_changed, (double)a->rows));
    card(out, "rules changed", v, s);
    vd__fmt_num(mb, vd__ratio(a->score_sum[VD_SIDE_BEFORE], (double)a->score_n[VD_SIDE_BEFORE]), 4);
    vd__fmt_num(ma, vd__ratio(a->score_sum[VD_SIDE_AFTER], (double)a->score_n[VD_SIDE_AFTER]), 4);
    snprintf(n, sizeof n, "%s \xe2\x86\x92 %s", mb, ma);
    card(out, "mean score", n, "");
    if (a->missing[VD_SIDE_BEFORE] || a->missing[VD_SIDE_AFTER]) {
        char b[32], f[32];
        vd__fmt_count(b, a->missing[VD_SIDE_BEFORE]);
        vd__fmt_count(f, a->missing[VD_SIDE_AFTER]);
        snprintf(n, sizeof n, "%s / %s", b, f);
        fputs("<div class=\"card\">no decision<b>", out);
        fputs(n, out);
        fputs("</b><span class=\"note\">", out);
        esc(out, r->before_name);
        fputs(" / ", out);
        esc(out, r->after_name);
        fputs("</span></div>\n", out);
    }
    fputs("</div>\n", out);
}

static void side_headers(FILE *out, const vd_report_t *r) {
    fputs("<th>", out);
    esc(out, r->before_name);
    fputs("</th><th>", out);
    esc(out, r->after_name);
    fputs("</th>", out);
}

static void actions(FILE *out, const vd_report_t *r, const vd_agg_t *a) {
    uint32_t order[VD_ACT_SLOTS];
    size_t n = vd__view_matrix_order(r, a, order);
    if (!n) return;
    fputs("<h3>Actions</h3>\n<p class=\"note\">Mildest first, by mean score.</p>\n", out);
    fputs("<table>\n<tr><th class=\"l\">action</th>", out);
    side_headers(out, r);
    fputs("<th>change</th><th>relative</th><th>mean score</th></tr>\n", out);
    for (size_t i = 0; i < n; i++) {
        uint64_t b = vd__view_total(a, VD_SIDE_BEFORE, order[i]);
        uint64_t f = vd__view_total(a, VD_SIDE_AFTER, order[i]);
        char rel[32], mean[32];
        vd__fmt_share(rel, vd__ratio((double)f - (double)b, (double)b));
        vd__fmt_num(mean, vd__view_action_mean(a, order[i]), 4);
        fputs("<tr><td class=\"l\">", out);
        esc(out, vd__view_action_name(r, order[i]));
        fputs("</td>", out);
        cell_count(out, b);
        cell_count(out, f);
        cell_change(out, b, f);
        fprintf(out, "<td>%s</td><td>%s</td></tr>\n", rel, mean);
    }
    fputs("</table>\n", out);

    uint64_t maxoff = 0;
    for (size_t i = 0; i < n; i++)
        for (size_t j = 0; j < n; j++)
            if (i != j && a->matrix[order[i]][order[j]] > maxoff)
                maxoff = a->matrix[order[i]][order[j]];
    fputs("<h3>Transitions</h3>\n<p class=\"note\">Rows: ", out);
    esc(out, r->before_name);
    fputs("; columns: ", out);
    esc(out, r->after_name);
    fputs(". Changed actions are shaded by their count.</p>\n<table>\n<tr><th class=\"l\"></th>",
          out);
    for (size_t j = 0; j < n; j++) {
        fputs("<th>", out);
        esc(out, vd__view_action_name(r, order[j]));
        fputs("</th>", out);
    }
    fputs("</tr>\n", out);
    for (size_t i = 0; i < n; i++) {
        fputs("<tr><th class=\"l\">", out);
        esc(out, vd__view_action_name(r, order[i]));
        fputs("</th>", out);
        for (size_t j = 0; j < n; j++) {
            uint64_t v = a->matrix[order[i]][order[j]];
            char c[32];
            vd__fmt_count(c, v);
            if (i == j || !v) {
                fprintf(out, "<td class=\"same\">%s</td>", c);
                continue;
            }
            double alpha = 0.12 + 0.5 * (double)v / (double)maxoff;
            fprintf(out, "<td class=\"chg\" style=\"background:rgba(217,72,15,%.2f)\">%s</td>",
                    alpha, c);
        }
        fputs("</tr>\n", out);
    }
    fputs("</table>\n", out);
}

static void rules_chart(FILE *out, const vd_report_t *r, const vd_agg_t *a, const uint32_t *ids,
                        size_t n) {
    size_t k = n < RULES_CHARTED ? n : RULES_CHARTED;
    const char *labels[RULES_CHARTED];
    double before[RULES_CHARTED], after[RULES_CHARTED];
    for (size_t i = 0; i < k; i++) {
        labels[i] = vd__names_get(&r->rules, ids[i]);
        before[i] = (double)a->rules[ids[i]].fired[VD_SIDE_BEFORE];
        after[i] = (double)a->rules[ids[i]].fired[VD_SIDE_AFTER];
    }
    vd_svg_series_t series[] = {{r->before_name, COLOR_BEFORE, before},
                                {r->after_name, COLOR_AFTER, after}};
    vd_svg_hbars_t c = {"rule hits, before and after", k, labels, series, 2};
    vd_svg_hbars(out, &c);
}

static int rules(FILE *out, const vd_report_t *r, const vd_agg_t *a) {
    uint32_t *ids;
    size_t n;
    if (vd__view_rules(r, a, &ids, &n) != 0) return VD_ENOMEM;
    if (!n) {
        free(ids);
        return 0;
    }
    int labelled = a->labels[VD_LABEL_BAD] || a->labels[VD_LABEL_GOOD];
    fprintf(out,
            "<h3>Rules</h3>\n<p class=\"note\">Decisions each rule fired in, by absolute change%s."
            "</p>\n",
            n > RULES_CHARTED ? "; the chart shows the first 25" : "");
    rules_chart(out, r, a, ids, n);
    fputs("<table>\n<tr><th class=\"l\">rule</th>", out);
    side_headers(out, r);
    fputs("<th>change</th><th>relative</th>", out);
    if (labelled) fputs("<th>bad hits</th><th>good hits</th>", out);
    fputs("</tr>\n", out);
    size_t listed = n < RULES_LISTED ? n : RULES_LISTED;
    for (size_t i = 0; i < listed; i++) {
        const vd_rule_stat_t *s = &a->rules[ids[i]];
        uint64_t b = s->fired[VD_SIDE_BEFORE], f = s->fired[VD_SIDE_AFTER];
        char rel[32];
        if (!b)
            snprintf(rel, sizeof rel, "new");
        else if (!f)
            snprintf(rel, sizeof rel, "gone");
        else
            vd__fmt_share(rel, vd__view_rule_relative(s));
        fputs("<tr><td class=\"l mono\">", out);
        esc(out, vd__names_get(&r->rules, ids[i]));
        fputs("</td>", out);
        cell_count(out, b);
        cell_count(out, f);
        cell_change(out, b, f);
        fprintf(out, "<td>%s</td>", rel);
        if (labelled) {
            char x[32], y[32], z[32], w[32];
            vd__fmt_count(x, s->bad[VD_SIDE_BEFORE]);
            vd__fmt_count(y, s->bad[VD_SIDE_AFTER]);
            vd__fmt_count(z, s->good[VD_SIDE_BEFORE]);
            vd__fmt_count(w, s->good[VD_SIDE_AFTER]);
            fprintf(out, "<td>%s \xe2\x86\x92 %s</td><td>%s \xe2\x86\x92 %s</td>", x, y, z, w);
        }
        fputs("</tr>\n", out);
    }
    fputs("</table>\n", out);
    if (listed < n)
        fprintf(out, "<p class=\"note\">%zu more rules in the JSON report.</p>\n", n - listed);
    free(ids);
    return 0;
}

static void metric_cells(FILE *out, const vd_confusion_t *c) {
    char p[32], rc[32], f[32];
    cell_count(out, c->tp);
    cell_count(out, c->fp);
    cell_count(out, c->fn);
    cell_count(out, c->tn);
    vd__fmt_rate(p, c->precision, 0);
    vd__fmt_rate(rc, c->recall, 0);
    vd__fmt_rate(f, c->fpr, 0);
    fprintf(out, "<td>%s</td><td>%s</td><td>%s</td>", p, rc, f);
}

static void labels(FILE *out, const vd_report_t *r, const vd_agg_t *a) {
    if (!a->labels[VD_LABEL_BAD] && !a->labels[VD_LABEL_GOOD]) return;
    char bad[32], good[32], unk[32], ev[32];
    vd__fmt_count(bad, a->labels[VD_LABEL_BAD]);
    vd__fmt_count(good, a->labels[VD_LABEL_GOOD]);
    vd__fmt_count(unk, a->labels[VD_LABEL_UNKNOWN]);
    vd__fmt_count(ev, vd__view_labelled(a));
    fprintf(
        out,
        "<h3>Labelled metrics</h3>\n<p class=\"note\">%s bad, %s good, %s unlabelled; %s "
        "labelled rows decided on both sides. Bad is the positive class; "
        "\xe2\x80\x9cX\xe2\x80\x9d predicts bad when the action is X, \xe2\x80\x9cX+\xe2\x80\x9d "
        "when it is X or harsher (by mean score).</p>\n",
        bad, good, unk, ev);
    uint32_t order[VD_ACT_SLOTS];
    size_t n = vd__view_actions(r, a, order);
    vd_metric_t m[VD_MAX_METRICS];
    size_t nm = vd__view_metrics(a, order, n, m);
    if (!nm) return;
    fputs("<table>\n<tr><th class=\"l\" rowspan=\"2\">prediction</th><th colspan=\"7\">", out);
    esc(out, r->before_name);
    fputs("</th><th colspan=\"7\">", out);
    esc(out, r->after_name);
    fputs("</th><th colspan=\"3\">change</th></tr>\n<tr>", out);
    for (int s = 0; s < VD_SIDES; s++)
        fputs("<th>TP</th><th>FP</th><th>FN</th><th>TN</th><th>precision</th><th>recall</th>"
              "<th>FPR</th>",
              out);
    fputs("<th>precision</th><th>recall</th><th>FPR</th></tr>\n", out);
    for (size_t i = 0; i < nm; i++) {
        const vd_confusion_t *b = &m[i].side[VD_SIDE_BEFORE], *f = &m[i].side[VD_SIDE_AFTER];
        fputs("<tr><td class=\"l\">", out);
        esc(out, vd__view_action_name(r, m[i].action));
        fprintf(out, "%s</td>", m[i].at_least ? "+" : "");
        metric_cells(out, b);
        metric_cells(out, f);
        char d[3][32];
        vd__fmt_rate(d[0], f->precision - b->precision, 1);
        vd__fmt_rate(d[1], f->recall - b->recall, 1);
        vd__fmt_rate(d[2], f->fpr - b->fpr, 1);
        fprintf(out, "<td>%s</td><td>%s</td><td>%s</td></tr>\n", d[0], d[1], d[2]);
    }
    fputs("</table>\n", out);
}

static void scores(FILE *out, const vd_report_t *r, const vd_agg_t *a) {
    size_t n = (size_t)a->score_axis.n;
    if (!n) return;
    char labels_buf[VD_AXIS_MAX_BINS][32];
    const char *labels[VD_AXIS_MAX_BINS];
    double before[VD_AXIS_MAX_BINS], after[VD_AXIS_MAX_BINS];
    for (size_t i = 0; i < n; i++) {
        vd__fmt_num(labels_buf[i], vd__view_score_bin(a, (int)i), 6);
        labels[i] = labels_buf[i];
        before[i] = (double)a->score_bins[VD_SIDE_BEFORE][i];
        after[i] = (double)a->score_bins[VD_SIDE_AFTER][i];
    }
    char w[32];
    vd__fmt_num(w, (double)vd_axis_width(&a->score_axis) / VD_SCORE_TICKS, 6);
    fprintf(out,
            "<h3>Scores</h3>\n<p class=\"note\">Decisions per score bin (width %s), "
            "overlaid.</p>\n",
            w);
    vd_svg_series_t series[] = {{r->before_name, COLOR_BEFORE, before},
                                {r->after_name, COLOR_AFTER, after}};
    vd_svg_columns_t c = {"score histogram, before and after", n, labels, series, 2, 1};
    vd_svg_columns(out, &c);
}

static void time_series(FILE *out, const vd_report_t *r, const vd_agg_t *a) {
    size_t n = (size_t)r->time_axis.n;
    uint64_t total = 0;
    for (size_t i = 0; i < n; i++)
        total += a->time_n[i];
    if (!total) return;
    int64_t width = vd_axis_width(&r->time_axis);
    char labels_buf[VD_AXIS_MAX_BINS][48];
    const char *labels[VD_AXIS_MAX_BINS];
    double decisions[VD_AXIS_MAX_BINS], changed[VD_AXIS_MAX_BINS];
    for (size_t i = 0; i < n; i++) {
        vd__view_time(labels_buf[i], vd_axis_bin_start(&r->time_axis, (int)i), width);
        labels[i] = labels_buf[i];
        decisions[i] = (double)a->time_n[i];
        changed[i] = (double)a->time_changed[i];
    }
    char w[32];
    vd__view_width(w, width);
    fprintf(out, "<h3>Over time</h3>\n<p class=\"note\">Buckets of %s, UTC.</p>\n", w);
    vd_svg_series_t s1 = {"changed decisions", COLOR_AFTER, changed};
    vd_svg_columns_t c1 = {"changed decisions over time", n, labels, &s1, 1, 0};
    vd_svg_columns(out, &c1);
    vd_svg_series_t s2 = {"decisions", COLOR_TOTAL, decisions};
    vd_svg_columns_t c2 = {"decisions over time", n, labels, &s2, 1, 0};
    vd_svg_columns(out, &c2);
}

static int sample_side(FILE *out, const vd_report_t *r, const vd_sample_side_t *s) {
    char score[32];
    vd__fmt_num(score, s->action == VD_ACT_NONE ? NAN : s->score, 6);
    char *reasons = vd__view_reasons(r, s);
    if (!reasons) return VD_ENOMEM;
    fputs("<td class=\"l\"><b>", out);
    esc(out, vd__view_action_name(r, s->action));
    fprintf(out, "</b> %s<br/><span class=\"mono\">", score);
    esc(out, reasons);
    fputs("</span></td>", out);
    free(reasons);
    return 0;
}

static int samples(FILE *out, const vd_report_t *r, const vd_agg_t *a) {
    size_t n;
    const vd_sample_t **items = vd__samples_sorted(&a->samples, &n);
    if (n == SIZE_MAX) return VD_ENOMEM;
    if (!n) return 0;
    char later[32];
    vd__fmt_count(later, a->samples.later);
    fprintf(out, "<h3>Samples of changed decisions</h3>\n<p class=\"note\">The first %zu",
            a->samples.nfirst);
    if (a->samples.nreservoir)
        fprintf(out, ", then %zu drawn uniformly from the %s after them", a->samples.nreservoir,
                later);
    fputs(".</p>\n<table>\n<tr><th>#</th><th class=\"l\">id, time, label</th><th class=\"l\">",
          out);
    esc(out, r->before_name);
    fputs("</th><th class=\"l\">", out);
    esc(out, r->after_name);
    fputs("</th></tr>\n", out);
    int rc = 0;
    for (size_t i = 0; i < n && rc == 0; i++) {
        const vd_sample_t *x = items[i];
        char when[48] = "no time";
        if (x->time_ms != VD_REPLAY_NO_TIME) vd__view_time(when, x->time_ms, 0);
        fprintf(out, "<tr><td>%llu</td><td class=\"l\"><span class=\"mono\">",
                (unsigned long long)x->seq);
        esc(out, x->id ? x->id : "(no id)");
        fprintf(out, "</span><br/>%s%s</td>", when,
                x->label < 0 ? ""
                : x->label   ? "<br/>label: bad"
                             : "<br/>label: good");
        rc = sample_side(out, r, &x->side[VD_SIDE_BEFORE]);
        if (rc == 0) rc = sample_side(out, r, &x->side[VD_SIDE_AFTER]);
        fputs("</tr>\n", out);
    }
    fputs("</table>\n", out);
    free(items);
    return rc;
}

static int section(FILE *out, const vd_report_t *r, const vd_agg_t *a, size_t index) {
    fprintf(out, "<section id=\"s%zu\">\n<h2>", index);
    esc(out, vd__view_title(r, a));
    fputs("</h2>\n", out);
    summary(out, r, a);
    actions(out, r, a);
    int rc = rules(out, r, a);
    if (rc != 0) return rc;
    labels(out, r, a);
    scores(out, r, a);
    time_series(out, r, a);
    rc = samples(out, r, a);
    fputs("</section>\n", out);
    return rc;
}

static void header(FILE *out, const vd_report_t *r, const vd_agg_t *const *secs, size_t n) {
    fputs("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\"/>\n"
          "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\"/>\n<title>",
          out);
    fputs("Verdict backtest: ", out);
    esc(out, r->before_name);
    fputs(" \xe2\x86\x92 ", out);
    esc(out, r->after_name);
    fprintf(out, "</title>\n<style>%s</style>\n</head>\n<body>\n<header>\n<h1>", css);
    fputs("Backtest: ", out);
    esc(out, r->before_name);
    fputs(" \xe2\x86\x92 ", out);
    esc(out, r->after_name);
    char rows[32];
    vd__fmt_count(rows, r->rows);
    fprintf(out, "</h1>\n<div>%s decisions", rows);
    if (r->timed) {
        char first[48], last[48];
        vd__view_time(first, r->first_ms, 0);
        vd__view_time(last, r->last_ms, 0);
        fprintf(out, ", from %s to %s", first, last);
    }
    fputs("</div>\n<nav>", out);
    for (size_t i = 0; i < n; i++) {
        fprintf(out, "<a href=\"#s%zu\">", i);
        esc(out, vd__view_title(r, secs[i]));
        fputs("</a>", out);
    }
    fputs("</nav>\n</header>\n<main>\n", out);
}

int vd__report_html(const vd_report_t *r, FILE *out) {
    const vd_agg_t *secs[VD_REPORT_MAX_PIPELINES + 1];
    size_t n = vd__view_sections(r, secs);
    header(out, r, secs, n);
    int rc = 0;
    for (size_t i = 0; i < n && rc == 0; i++)
        rc = section(out, r, secs[i], i);
    fputs("</main>\n</body>\n</html>\n", out);
    if (rc == 0 && ferror(out)) rc = VD_EIO;
    return rc;
}
