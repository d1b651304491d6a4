/* The backtest report of `verdict replay`: it receives one comparison row per replayed
 * decision, in input order, keeps aggregates of bounded size (per pipeline and overall:
 * counts, the action transition matrix, per-rule hits, labelled confusion counts, score
 * histograms, a time series) and a bounded set of sample rows, and writes them as text, JSON
 * or a self-contained HTML page (docs/backtesting.md describes each).
 *
 * Memory does not grow with the rows: it grows with the distinct pipelines, actions and rules
 * (which the policies name; beyond VD_REPORT_MAX_* each kind folds into "(other)") and the
 * samples kept. Output depends only on the rows and the options: no clock is read, ties sort
 * by name, and reservoir sampling draws from a generator seeded by the pipeline's name. */
#ifndef VD_REPLAY_REPORT_H
#define VD_REPLAY_REPORT_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* Distinct names kept per report; further names of the kind are counted as "(other)". */
#define VD_REPORT_MAX_PIPELINES 64
#define VD_REPORT_MAX_ACTIONS   32
#define VD_REPORT_MAX_RULES     16384

/* time_ms of a row whose time is unknown: it is left out of the time series. */
#define VD_REPLAY_NO_TIME INT64_MIN

/* One side of a comparison. Everything is borrowed for the call to vd_report_add. */
typedef struct vd_replay_side {
    const char *action; /* NULL: no decision on this side (e.g. the record had none) */
    double score;
    const char *const *rules; /* the rules that fired (live reasons' rule names), nrules */
    size_t nrules;
    const char *reasons_json; /* the side's reasons as a JSON array text, for samples; or NULL */
} vd_replay_side_t;

typedef struct vd_replay_row {
    const char *id;  /* the decision id (NULL: none) */
    int64_t time_ms; /* the event's time (unix ms), or VD_REPLAY_NO_TIME */
    const char *pipeline;
    vd_replay_side_t before; /* what was decided (the record) or the baseline policy */
    vd_replay_side_t after;  /* the candidate policy */
    int label;               /* -1 unknown, 0 good, 1 bad (from --labels) */
} vd_replay_row_t;

/* opts.samples or opts.reservoir: keep none. */
#define VD_REPORT_NO_SAMPLES SIZE_MAX

typedef struct vd_report_opts {
    size_t samples;   /* per pipeline: the first changed decisions kept (0: the default, 20) */
    size_t reservoir; /* per pipeline: changed decisions after those, sampled uniformly
                         (0: the default, 20) */
    const char *before_name, *after_name; /* titles, e.g. "recorded" and "policies/" */
} vd_report_opts_t;

typedef struct vd_report vd_report_t;

/* A new, empty report; opts may be NULL (defaults). Returns NULL when out of memory. */
vd_report_t *vd_report_new(const vd_report_opts_t *opts);

/* Adds one row; copies what it keeps. Returns 0, VD_EINVAL (rules NULL with nrules > 0) or
 * VD_ENOMEM (the report is then as it was before the call, apart from its samples). */
int vd_report_add(vd_report_t *r, const vd_replay_row_t *row);

/* The rows added so far. */
uint64_t vd_report_rows(const vd_report_t *r);

/* Aligned tables for a terminal; data is made safe to print (controls are escaped). */
int vd_report_write_text(const vd_report_t *r, FILE *out);

/* Everything, machine-readable (keys in docs/backtesting.md). */
int vd_report_write_json(const vd_report_t *r, FILE *out);

/* A self-contained page: inline CSS and SVG charts, no script, nothing fetched. */
int vd_report_write_html(const vd_report_t *r, FILE *out);

/* The writers return 0, VD_ENOMEM, or VD_EIO when out reports an error. */

void vd_report_free(vd_report_t *r);

#endif
