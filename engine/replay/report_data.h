/* What a report holds, shared by its aggregation (report.c) and its writers. Types only.
 * Names are interned once per report: a pipeline, action or rule is a small integer id
 * everywhere else, and the aggregates are arrays indexed by it. */
#ifndef VD_REPLAY_REPORT_DATA_H
#define VD_REPLAY_REPORT_DATA_H

#include "replay/axis.h"
#include "replay/report.h"
#include "replay/strmap.h"

#include <stddef.h>
#include <stdint.h>

/* Action ids: 0 is "no decision on this side", then the names as first seen. */
#define VD_ACT_NONE  0
#define VD_ACT_SLOTS (VD_REPORT_MAX_ACTIONS + 1)

/* The name a kind's overflow folds into. */
#define VD_REPORT_OTHER "(other)"

#define VD_TIME_BUCKETS 100
#define VD_SCORE_BINS   48
/* Scores are binned in ticks of 1/1024: the finest bin width. */
#define VD_SCORE_TICKS 1024.0

enum { VD_SIDE_BEFORE, VD_SIDE_AFTER, VD_SIDES };
/* Label index: the row's label + 1. */
enum { VD_LABEL_UNKNOWN, VD_LABEL_GOOD, VD_LABEL_BAD, VD_LABELS };

/* One interned kind of name: id -> name, and name -> id through the map. */
typedef struct vd_names {
    vd_strmap_t ids;
    const char **name; /* name[id], stored in ids */
    uint32_t count, cap, max;
    uint32_t first; /* the first id handed out (actions keep 0 for "none") */
} vd_names_t;

typedef struct vd_rule_stat {
    uint64_t fired[VD_SIDES]; /* decisions in which the rule fired */
    uint64_t bad[VD_SIDES];   /* ... of them labelled bad */
    uint64_t good[VD_SIDES];  /* ... labelled good */
} vd_rule_stat_t;

/* A changed decision kept as a sample (report_sample.h). */
typedef struct vd_sample vd_sample_t;

/* The bounded sample set of one pipeline: the first changed decisions, then a uniform
 * reservoir over the later ones (Vitter's algorithm R). */
typedef struct vd_samples {
    vd_sample_t **first;
    size_t nfirst;
    vd_sample_t **reservoir;
    size_t nreservoir;
    uint64_t later; /* changed decisions after the first ones: the reservoir's population */
    uint64_t rng;   /* splitmix64 state, seeded from the pipeline's name */
} vd_samples_t;

/* The aggregates of one pipeline, or of all of them. */
typedef struct vd_agg {
    uint32_t pipeline; /* its id; UINT32_MAX for the overall aggregate */
    uint64_t rows, changed, score_changed, rules_changed;
    uint64_t missing[VD_SIDES]; /* rows without a decision on that side */
    /* Scores of the sides with a decision (finite ones in the sums and histogram). */
    double score_sum[VD_SIDES];
    uint64_t score_n[VD_SIDES], nonfinite[VD_SIDES];
    /* matrix[before][after]: per-action totals are its row and column sums. */
    uint64_t matrix[VD_ACT_SLOTS][VD_ACT_SLOTS];
    /* Finite scores of the decisions with each action, both sides: orders actions. */
    double act_score_sum[VD_ACT_SLOTS];
    uint64_t act_score_n[VD_ACT_SLOTS];
    /* Rows by label, and by label and action on each side for rows decided on both sides. */
    uint64_t labels[VD_LABELS];
    uint64_t by_label[VD_SIDES][VD_LABELS][VD_ACT_SLOTS];
    /* Per rule id: 0 .. nrules (grown to the largest id the aggregate saw). */
    vd_rule_stat_t *rules;
    size_t nrules;
    /* On the report's time axis. */
    uint64_t time_n[VD_AXIS_MAX_BINS], time_changed[VD_AXIS_MAX_BINS];
    /* On the aggregate's own score axis, shared by both sides. */
    vd_axis_t score_axis;
    uint64_t score_bins[VD_SIDES][VD_AXIS_MAX_BINS];
    vd_samples_t samples; /* pipelines only */
} vd_agg_t;

struct vd_report {
    size_t nfirst, nreservoir;
    char *before_name, *after_name;
    vd_names_t pipelines, actions, rules;
    vd_agg_t all;
    vd_agg_t *pipes[VD_REPORT_MAX_PIPELINES]; /* by pipeline id */
    vd_axis_t time_axis;
    int64_t first_ms, last_ms; /* of the rows with a time */
    uint64_t timed, rows;
    /* Per rule id, the last call of vd_report_add that counted it on each side: a rule named
     * twice in one decision counts once. Calls are numbered from 1, failed ones too. */
    struct vd_rule_stamp {
        uint64_t side[VD_SIDES];
    } * stamp;
    size_t nstamp;
    uint64_t calls;
    /* The current row's distinct rule ids per side (scratch reused between rows). */
    uint32_t *row_rules[VD_SIDES];
    size_t nrow_rules[VD_SIDES], row_rules_cap[VD_SIDES];
};

#endif
