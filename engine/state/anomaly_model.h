/* The streaming model of one numeric series: it learns the series' level, spread and daily and
 * weekly rhythm online, one value at a time, and scores each new value before learning from it
 * (so a value never explains itself away). Fixed size, no allocation, no randomness: the same
 * values at the same times always give the same scores. The keyed store of many series
 * (anomaly.h) keeps one of these per key; docs/anomaly.md describes the model. */
#ifndef VD_ANOMALY_MODEL_H
#define VD_ANOMALY_MODEL_H

#include <stddef.h>
#include <stdint.h>

#define VD_ANOMALY_SLOTS 96 /* time-of-day offsets: quarter hours (UTC) */
#define VD_ANOMALY_DAYS  7  /* day-of-week offsets */
#define VD_ANOMALY_BANDS 16 /* value bands of the succession memory */

/* What made a value unusual, as bits of vd_anomaly_result_t.why. */
#define VD_ANOMALY_ABOVE    0x001u /* above the band */
#define VD_ANOMALY_BELOW    0x002u /* below the band */
#define VD_ANOMALY_NOVEL    0x004u /* outside every value the series has shown for a long time */
#define VD_ANOMALY_SEASONAL 0x008u /* the expectation follows the series' daily/weekly rhythm */
#define VD_ANOMALY_SHIFT    0x010u /* the last few values together left the usual range */
#define VD_ANOMALY_RHYTHM   0x020u /* the recent values stray from this time's usual rhythm */
#define VD_ANOMALY_PATTERN  0x040u /* a succession of values the series has not shown lately */
#define VD_ANOMALY_QUIET    0x080u /* an alarm was raised a short while ago: the score is damped */
#define VD_ANOMALY_LEARNING 0x100u /* too few values yet: the score is 0 */

/* The predictors a model runs side by side. */
enum {
    VD_ANOMALY_PRED_LAST,     /* the previous value */
    VD_ANOMALY_PRED_LEVEL,    /* the recent average */
    VD_ANOMALY_PRED_SEASONAL, /* the slow level plus the offsets of this time of day and week */
    VD_ANOMALY_PRED_STEP,     /* the previous value plus the rhythm's change since */
    VD_ANOMALY_PREDS
};

/* How unusual a measure of the series is next to its own past: a high quantile and a recent
 * peak (slowly forgotten) of that measure. */
typedef struct vd_anomaly_ref {
    double tail, peak;
} vd_anomaly_ref_t;

/* One series' model, 1,112 bytes (docs/anomaly.md, "Memory"). Plain data: the keyed store
 * embeds it, a snapshot can write it as it is. */
typedef struct vd_anomaly_model {
    uint64_t seen;                 /* values learnt */
    int64_t first_time, last_time; /* Unix seconds */
    double last;                   /* the previous value */
    double interval;               /* the usual seconds between values */
    double level;                  /* fast moving average */
    double slow;                   /* the level under the rhythm */
    double err[VD_ANOMALY_PREDS];  /* each predictor's mean absolute error */
    double spread;                 /* mean absolute deviation around the rhythm */
    double lo, hi;                 /* the envelope of values seen, slowly forgetting */
    double far_lo, far_hi;         /* the envelope of a longer past, forgetting more slowly */
    double then_lo, then_hi;       /* the far envelope at the start of this stretch of values */
    double before_lo, before_hi;   /* and at the start of the previous stretch */
    double beyond_peak;            /* the recent peak of how far values went beyond it */
    double recent;                 /* the short-run average of the surprise */
    double drift;                  /* the short-run average of the signed rhythm distance */
    double novelty;                /* how often lately a succession was new */
    vd_anomaly_ref_t ref_value, ref_recent, ref_drift;
    uint64_t pairs[2][VD_ANOMALY_BANDS * VD_ANOMALY_BANDS / 64]; /* successions met: now, before */
    float slot[VD_ANOMALY_SLOTS];      /* offsets from the slow level by time of day */
    float slot_peak[VD_ANOMALY_SLOTS]; /* the largest surprise lately at each time of day */
    float day[VD_ANOMALY_DAYS];        /* offsets by day of week */
    uint32_t quiet;                    /* values left in the quiet spell after an alarm */
    float quiet_level;                 /* the score of the alarm that began it */
    uint8_t last_band;                 /* the band of the previous value */
} vd_anomaly_model_t;

/* The verdict on one value. */
typedef struct vd_anomaly_result {
    double score;     /* 0 (ordinary) .. 1 (as unusual as the model can say) */
    double value;     /* the value scored */
    double expected;  /* what the model expected at this time */
    double low, high; /* the band of ordinary values at this time */
    double surprise;  /* the distance from the expectation, in typical errors */
    uint64_t seen;    /* values the model had learnt before this one */
    uint32_t why;     /* VD_ANOMALY_* bits */
} vd_anomaly_result_t;

/* Scores at or above this are alarms. The model then stays quiet for a while (later values
 * score under half of what they would), so that one event is reported once. */
#define VD_ANOMALY_ALARM 0.5

/* Makes an empty model (every value is then "learning" for a while). */
void vd_anomaly_model_init(vd_anomaly_model_t *m);

/* The largest magnitude a value may have: the time-of-day offsets are floats, and differences
 * of values beyond it could leave their range and spoil a model for good. */
#define VD_ANOMALY_VALUE_MAX 1e30

/* Scores value at time t (Unix seconds) against what the model has learnt, fills *out, then
 * learns from it. A time before the last one counts as the last one. Returns 0, or VD_EINVAL
 * for a value that is not a number or larger than VD_ANOMALY_VALUE_MAX in magnitude (the model
 * is left unchanged). */
int vd_anomaly_model_observe(vd_anomaly_model_t *m, int64_t t, double value,
                             vd_anomaly_result_t *out);

/* Writes a one-line reason for a result into buf (always NUL-terminated when cap > 0), such as
 * "signups from AS64500 this hour: 412, expected 20-45 (score 0.97: above the usual range)";
 * what names the series. Returns 0, or VD_ELIMIT when the text was cut to fit. */
int vd_anomaly_explain(const vd_anomaly_result_t *r, const char *what, char *buf, size_t cap);

#endif
