/* Inline SVG charts for the HTML report, drawn here so that the page needs no script and
 * nothing from the network: columns (a histogram or a time series; series side by side or
 * overlaid) and horizontal bars (per-rule hits). Labels and series names are data: they are
 * escaped; colours are the caller's literals. Each bar carries a <title> tooltip. */
#ifndef VD_REPLAY_SVG_H
#define VD_REPLAY_SVG_H

#include <stddef.h>
#include <stdio.h>

typedef struct vd_svg_series {
    const char *name;  /* in the legend and tooltips */
    const char *color; /* a CSS colour literal, e.g. "#4c78a8" */
    const double *values;
} vd_svg_series_t;

typedef struct vd_svg_columns {
    const char *title;         /* the chart's accessible name */
    size_t n;                  /* columns */
    const char *const *labels; /* one per column: the x axis shows some of them */
    const vd_svg_series_t *series;
    size_t nseries;
    int overlay; /* series drawn over each other (the first filled, the others outlined)
                    instead of side by side */
} vd_svg_columns_t;

/* Writes an <svg> column chart. */
void vd_svg_columns(FILE *out, const vd_svg_columns_t *c);

typedef struct vd_svg_hbars {
    const char *title;
    size_t n;                  /* rows */
    const char *const *labels; /* one per row */
    const vd_svg_series_t *series;
    size_t nseries;
} vd_svg_hbars_t;

/* Writes an <svg> chart of horizontal bars, one group of nseries bars per row. */
void vd_svg_hbars(FILE *out, const vd_svg_hbars_t *c);

/* A short number for an axis: "950", "12k", "1.5M". */
void vd_svg_short(char buf[32], double v);

#endif
