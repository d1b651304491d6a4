/* What the writers show, computed from the aggregates the same way for every format: the
 * order of actions, per-action totals, rules sorted by change, labelled metrics, times. */
#ifndef VD_REPLAY_REPORT_VIEW_H
#define VD_REPLAY_REPORT_VIEW_H

#include "replay/report_data.h"
#include "replay/report_sample.h"

#include <stddef.h>
#include <stdint.h>

/* num / den, or NaN when den is 0 (written as null, or "-" in text). */
double vd__ratio(double num, double den);

/* Decisions with action act on one side (row or column sum of the matrix). */
uint64_t vd__view_total(const vd_agg_t *a, int side, uint32_t act);

/* The mean of the finite scores of the decisions with action act, both sides (NaN: none). */
double vd__view_action_mean(const vd_agg_t *a, uint32_t act);

/* The actions the aggregate saw on either side (not VD_ACT_NONE), mildest first: by mean
 * score, ties (and actions without a finite score, last) by name. Writes their ids to out and
 * returns how many (out has room for VD_ACT_SLOTS). The first is the aggregate's default
 * action. */
size_t vd__view_actions(const vd_report_t *r, const vd_agg_t *a, uint32_t *out);

/* The rows and columns of the transition matrix: VD_ACT_NONE first when some decision was
 * missing on either side, then vd__view_actions. Returns how many. */
size_t vd__view_matrix_order(const vd_report_t *r, const vd_agg_t *a, uint32_t out[VD_ACT_SLOTS]);

/* The rules that fired on either side, by absolute change (after - before) descending, then
 * by hits (before + after) descending, then by name. Returns 0 or VD_ENOMEM; *ids (free it)
 * gets *n rule ids. */
int vd__view_rules(const vd_report_t *r, const vd_agg_t *a, uint32_t **ids, size_t *n);

/* A rule's relative change, (after - before) / before; NaN when it did not fire before. */
double vd__view_rule_relative(const vd_rule_stat_t *s);

/* Confusion counts of one prediction on one side, over the rows labelled and decided on
 * both sides; bad is the positive class. */
typedef struct vd_confusion {
    uint64_t tp, fp, fn, tn;
    double precision, recall, fpr; /* NaN when undefined (a zero denominator) */
} vd_confusion_t;

/* A prediction: "decided action" (at_least 0) or "decided action or a harsher one" (at_least
 * 1; harsher is later in vd__view_actions' order). */
typedef struct vd_metric {
    uint32_t action;
    int at_least;
    vd_confusion_t side[VD_SIDES];
} vd_metric_t;

#define VD_MAX_METRICS (2 * VD_ACT_SLOTS)

/* The metrics rows for the actions in order (from vd__view_actions): every action but the
 * first (the default) exactly, and, unless it is the harshest, with the harsher ones. The
 * first of these "at least" rows is every decision but the default: flagged. Returns how
 * many rows were written to out. */
size_t vd__view_metrics(const vd_agg_t *a, const uint32_t *order, size_t n, vd_metric_t *out);

/* Labelled rows decided on both sides (the population of the metrics). */
uint64_t vd__view_labelled(const vd_agg_t *a);

/* A UTC time for people: with width 0 to the millisecond ("2026-11-30T06:09:33.767Z"),
 * else as fine as a bin of that width needs ("2026-11-30", "2026-11-30 06:15",
 * "2026-11-30 06:15:10"). */
void vd__view_time(char buf[48], int64_t ms, int64_t width);

/* A bin width in words ("15 min", "1 day"). */
void vd__view_width(char buf[32], int64_t ms);

/* The display name of an action id ("(none)" for VD_ACT_NONE). */
const char *vd__view_action_name(const vd_report_t *r, uint32_t act);

/* The aggregates to write: the overall one when there are several pipelines, then each
 * pipeline by name. Returns how many went to out. */
size_t vd__view_sections(const vd_report_t *r, const vd_agg_t *out[VD_REPORT_MAX_PIPELINES + 1]);

/* An aggregate's title: its pipeline's name, or "all pipelines". */
const char *vd__view_title(const vd_report_t *r, const vd_agg_t *a);

/* Numbers for people: a count with thousands separators ("1,234,567"); a signed change
 * ("+37", "-5", "0"); a share as a percentage ("3.2%", "-" when NaN); a value with up to
 * digits significant digits ("-" when NaN); a signed value likewise ("+0.012"). */
void vd__fmt_count(char buf[32], uint64_t v);
void vd__fmt_change(char buf[32], uint64_t before, uint64_t after);
void vd__fmt_share(char buf[32], double ratio);
void vd__fmt_num(char buf[32], double v, int digits);
void vd__fmt_delta(char buf[32], double v, int digits);
/* A rate (precision, recall, FPR) with three decimals, "0.954", or its change, "+0.012"
 * (signed); "-" when NaN. */
void vd__fmt_rate(char buf[32], double v, int sign);

/* A sample side's reasons in one line, "rule +score (detail); ...", read from its reasons
 * JSON (else its rule names). Raw data: the caller escapes it. NULL when out of memory. */
char *vd__view_reasons(const vd_report_t *r, const vd_sample_side_t *s);

/* The score a histogram bin starts at. */
double vd__view_score_bin(const vd_agg_t *a, int bin);

#endif
