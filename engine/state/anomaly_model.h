/* The streaming model of one numeric series: it learns the series' level, spread and daily and
 * weekly rhythm online, one value at a time, and scores each new value before learning from it
 * (so a value never explains itself away). Fixed size, no allocation, no randomness: the same
 * values at the same times always give the same scores. The keyed store of many series
 * (anomaly.h) keeps one of these per key. */
#ifndef VD_ANOMALY_MODEL_H
#define VD_ANOMALY_MODEL_H

#include <stddef.h>
#include <stdint.h>

#define VD_ANOMALY_HOURS 24 /* hour-of-day offsets */
#define VD_ANOMALY_DAYS  7  /* day-of-week offsets */

/* What made a value unusual, as bits of vd_anomaly_result_t.why. */
#define VD_ANOMALY_ABOVE    0x01u /* above the band */
#define VD_ANOMALY_BELOW    0x02u /* below the band */
#define VD_ANOMALY_NOVEL    0x04u /* outside every value the series has shown for a long time */
#define VD_ANOMALY_SEASONAL 0x08u /* the expectation follows the series' daily/weekly rhythm */
#define VD_ANOMALY_SHIFT    0x10u /* the recent values together left the usual range */
#define VD_ANOMALY_LEARNING 0x20u /* too few values yet: the score is 0 */

/* The predictors a model runs side by side; it trusts the one that has erred least lately. */
enum { VD_ANOMALY_PRED_LAST, VD_ANOMALY_PRED_LEVEL, VD_ANOMALY_PRED_SEASONAL, VD_ANOMALY_PREDS };

/* One series' model. Plain data (copyable, comparable with memcmp after vd_anomaly_model_init):
 * the keyed store embeds it, a snapshot can write it as is. */
typedef struct vd_anomaly_model {
    uint64_t seen;                /* values learnt */
    int64_t last_time;            /* seconds */
    double last;                  /* the previous value */
    double interval;              /* the usual seconds between values (moving average) */
    double level;                 /* fast moving average */
    double slow;                  /* slow moving average: the base of the seasonal prediction */
    double err[VD_ANOMALY_PREDS]; /* each predictor's mean absolute error lately */
    double spread;                /* mean absolute deviation of values around the slow level */
    double lo, hi;                /* the envelope of values seen, slowly forgetting */
    double surprise_mean, surprise_var; /* the long-run distribution of the surprise */
    double surprise_short;              /* its short-run average */
    float hour[VD_ANOMALY_HOURS];       /* offsets from the slow level by hour of day (UTC) */
    float day[VD_ANOMALY_DAYS];         /* and by day of week */
    uint32_t quiet;                     /* values left before another alarm may be raised */
    uint32_t pad;
} vd_anomaly_model_t;

/* The verdict on one value. */
typedef struct vd_anomaly_result {
    double score;     /* 0 (ordinary) .. 1 (as unusual as the model can say) */
    double value;     /* the value scored */
    double expected;  /* what the model expected at this time */
    double low, high; /* the band of ordinary values at this time */
    double surprise;  /* the distance from the expectation, in spreads */
    uint64_t seen;    /* values the model had learnt before this one */
    uint32_t why;     /* VD_ANOMALY_* bits */
} vd_anomaly_result_t;

/* Scores at or above this are alarms: the model then stays quiet for a while, so that one
 * event is reported once (later values of the same event score at most half of it). */
#define VD_ANOMALY_ALARM 0.5

/* Makes an empty model (every value is then "learning" for a while). */
void vd_anomaly_model_init(vd_anomaly_model_t *m);

/* Scores value at time t (Unix seconds) against what the model has learnt, fills *out, then
 * learns from it. Times should not go backwards; a value at an earlier time than the last is
 * scored and learnt as if it came at the last time. Returns 0, or VD_EINVAL for a value that is
 * not a finite number (the model is left unchanged). */
int vd_anomaly_model_observe(vd_anomaly_model_t *m, int64_t t, double value,
                             vd_anomaly_result_t *out);

/* Writes a one-line reason for a result into buf (always NUL-terminated when cap > 0), such as
 * "signups from AS64500 this hour: 412, expected 20-45 (score 0.97, above, novel)"; what names
 * the series. Returns 0, or VD_ELIMIT when the text was cut to fit. */
int vd_anomaly_explain(const vd_anomaly_result_t *r, const char *what, char *buf, size_t cap);

#endif
