#include "svg.h"

#include "base/utf8.h"
#include "replay/escape.h"

#include <math.h>
#include <string.h>

#define WIDTH        760
#define COL_HEIGHT   240
#define MARGIN_LEFT  60
#define MARGIN_RIGHT 12
#define MARGIN_TOP   28
#define MARGIN_BOT   40
#define CHAR_WIDTH   6.5 /* of an 11px axis label, near enough, to keep labels apart */
#define ROW_HEIGHT   24
#define LABEL_WIDTH  220
#define LABEL_BYTES  36 /* longer row labels are cut (the tooltip has them whole) */

void vd_svg_short(char buf[32], double v) {
    static const struct {
        double at;
        const char *suffix;
    } units[] = {{1e9, "G"}, {1e6, "M"}, {1e3, "k"}};
    for (size_t i = 0; i < sizeof units / sizeof *units; i++) {
        if (fabs(v) < units[i].at) continue;
        snprintf(buf, 32, "%.3g%s", v / units[i].at, units[i].suffix);
        return;
    }
    snprintf(buf, 32, "%.3g", v);
}

/* A round top for the value axis and its step: 1, 2 or 5 times a power of ten. */
static double nice_step(double max, int ticks) {
    if (!(max > 0)) return 1;
    double raw = max / ticks, mag = pow(10, floor(log10(raw)));
    static const double m[] = {1, 2, 5, 10};
    for (size_t i = 0; i < 4; i++)
        if (m[i] * mag >= raw) return m[i] * mag;
    return 10 * mag;
}

static void text_el(FILE *out, double x, double y, const char *anchor, const char *cls,
                    const char *s) {
    fprintf(out, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"%s\" class=\"%s\">", x, y, anchor, cls);
    vd_esc_html(out, s, strlen(s));
    fputs("</text>\n", out);
}

/* Overlaid columns: the first series filled, the others as outlines over it. */
static void paint(FILE *out, const char *color, int outline) {
    if (outline)
        fprintf(out, " fill=\"none\" stroke=\"%s\" stroke-width=\"2\"", color);
    else
        fprintf(out, " fill=\"%s\"", color);
}

static void legend(FILE *out, const vd_svg_series_t *series, size_t nseries, double x,
                   int overlay) {
    for (size_t i = 0; i < nseries; i++) {
        fprintf(out, "<rect x=\"%.1f\" y=\"8\" width=\"12\" height=\"12\"", x);
        paint(out, series[i].color, overlay && i > 0);
        fputs("/>\n", out);
        text_el(out, x + 16, 18, "start", "lg", series[i].name);
        x += 24 + 8.0 * (double)strlen(series[i].name);
    }
}

static double max_value(const vd_svg_series_t *series, size_t nseries, size_t n) {
    double max = 0;
    for (size_t s = 0; s < nseries; s++)
        for (size_t i = 0; i < n; i++)
            if (series[s].values[i] > max) max = series[s].values[i];
    return max;
}

static void tooltip(FILE *out, const char *label, const char *series, double v) {
    char num[32];
    snprintf(num, sizeof num, "%.6g", v);
    fputs("<title>", out);
    vd_esc_html(out, label, strlen(label));
    fputs(": ", out);
    vd_esc_html(out, series, strlen(series));
    fprintf(out, " %s</title>", num);
}

static void open_svg(FILE *out, const char *title, int height) {
    fprintf(out,
            "<svg xmlns=\"http://www.w3.org/2000/svg\" class=\"chart\" width=\"%d\" "
            "height=\"%d\" viewBox=\"0 0 %d %d\" role=\"img\" aria-label=\"",
            WIDTH, height, WIDTH, height);
    vd_esc_html(out, title, strlen(title));
    fputs("\">\n", out);
}

void vd_svg_columns(FILE *out, const vd_svg_columns_t *c) {
    const double pw = WIDTH - MARGIN_LEFT - MARGIN_RIGHT, ph = COL_HEIGHT - MARGIN_TOP - MARGIN_BOT;
    double step = nice_step(max_value(c->series, c->nseries, c->n), 4);
    double top = step * fmax(1, ceil(max_value(c->series, c->nseries, c->n) / step));
    open_svg(out, c->title, COL_HEIGHT);
    legend(out, c->series, c->nseries, MARGIN_LEFT, c->overlay);
    for (long k = 0, ticks = lround(top / step); k <= ticks; k++) {
        double v = (double)k * step, y = MARGIN_TOP + ph - v / top * ph;
        char num[32];
        vd_svg_short(num, v);
        fprintf(out, "<line x1=\"%d\" x2=\"%d\" y1=\"%.1f\" y2=\"%.1f\" class=\"grid\"/>\n",
                MARGIN_LEFT, WIDTH - MARGIN_RIGHT, y, y);
        text_el(out, MARGIN_LEFT - 6, y + 4, "end", "ax", num);
    }
    double bw = c->n ? pw / (double)c->n : pw;
    size_t longest = 1;
    for (size_t i = 0; i < c->n; i++)
        if (strlen(c->labels[i]) > longest) longest = strlen(c->labels[i]);
    size_t fit = (size_t)(pw / (CHAR_WIDTH * (double)longest + 16)), every = 1;
    while (every * (fit ? fit : 1) < c->n)
        every++;
    for (size_t i = 0; i < c->n; i++) {
        double x0 = MARGIN_LEFT + bw * (double)i;
        for (size_t s = 0; s < c->nseries; s++) {
            double v = c->series[s].values[i];
            if (!(v > 0)) continue;
            double h = v / top * ph, w = c->overlay ? bw * 0.9 : bw * 0.9 / (double)c->nseries;
            double x = x0 + bw * 0.05 + (c->overlay ? 0 : w * (double)s);
            fprintf(out, "<rect x=\"%.2f\" y=\"%.2f\" width=\"%.2f\" height=\"%.2f\"", x,
                    MARGIN_TOP + ph - h, w, h);
            paint(out, c->series[s].color, c->overlay && s > 0);
            fputc('>', out);
            tooltip(out, c->labels[i], c->series[s].name, v);
            fputs("</rect>\n", out);
        }
        if (i % every == 0)
            text_el(out, x0 + bw / 2, COL_HEIGHT - MARGIN_BOT + 16, "middle", "ax", c->labels[i]);
    }
    fprintf(out, "<line x1=\"%d\" x2=\"%d\" y1=\"%.1f\" y2=\"%.1f\" class=\"base\"/>\n",
            MARGIN_LEFT, WIDTH - MARGIN_RIGHT, MARGIN_TOP + ph, MARGIN_TOP + ph);
    fputs("</svg>\n", out);
}

/* A row label cut to LABEL_BYTES without splitting a character. */
static void row_label(FILE *out, double y, const char *s) {
    size_t n = strlen(s), cut = vd_utf8_cut(s, n, LABEL_BYTES);
    fprintf(out, "<text x=\"%d\" y=\"%.1f\" text-anchor=\"end\" class=\"ax\">", LABEL_WIDTH - 6, y);
    vd_esc_html(out, s, cut);
    if (cut < n) fputs("\xe2\x80\xa6", out);
    fputs("</text>\n", out);
}

void vd_svg_hbars(FILE *out, const vd_svg_hbars_t *c) {
    int height = MARGIN_TOP + ROW_HEIGHT * (int)c->n + 8;
    const double pw = WIDTH - LABEL_WIDTH - 60; /* room for the value after a bar */
    double max = max_value(c->series, c->nseries, c->n);
    open_svg(out, c->title, height);
    legend(out, c->series, c->nseries, LABEL_WIDTH, 0);
    double bh = (ROW_HEIGHT - 6) / (double)(c->nseries ? c->nseries : 1);
    for (size_t i = 0; i < c->n; i++) {
        double y0 = MARGIN_TOP + ROW_HEIGHT * (double)i;
        row_label(out, y0 + ROW_HEIGHT / 2.0 + 4, c->labels[i]);
        for (size_t s = 0; s < c->nseries; s++) {
            double v = c->series[s].values[i], w = max > 0 ? v / max * pw : 0;
            double y = y0 + 3 + bh * (double)s;
            fprintf(out, "<rect x=\"%d\" y=\"%.2f\" width=\"%.2f\" height=\"%.2f\" fill=\"%s\">",
                    LABEL_WIDTH, y, w, bh - 1, c->series[s].color);
            tooltip(out, c->labels[i], c->series[s].name, v);
            fputs("</rect>\n", out);
            char num[32];
            vd_svg_short(num, v);
            text_el(out, LABEL_WIDTH + w + 4, y + bh - 2, "start", "val", num);
        }
    }
    fputs("</svg>\n", out);
}
