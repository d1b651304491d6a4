#include "anomaly_model.h"

#include "base/error.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

/* One fixed configuration for every series: nothing here is tuned to a particular series; what
 * differs between series (their scale, sampling interval and rhythm) is learnt online. */
#define WARMUP        30     /* values learnt before any score: a new series says "learning" */
#define LEVEL_RATE    0.1    /* the fast level follows the last ten values or so */
#define SLOW_RATE     0.01   /* the base of the seasonal prediction: the last hundred or so */
#define ERR_RATE      0.03   /* the predictors' errors are compared over the last ~30 values */
#define SPREAD_RATE   0.01   /* the spread around the slow level */
#define DAY_RATE      0.01   /* day-of-week offsets move slowly: one in seven values */
#define FORGET        0.0005 /* the envelope forgets its extremes over a few thousand values */
#define SHORT_RATE    0.3    /* the short-run surprise: the last three or four values */
#define LONG_MIN_RATE 0.0005 /* the long-run surprise: all values, then the last ~2,000 */
#define BAND_SPREADS  3.0    /* the band is the expectation plus or minus three spreads */
#define RECORD_FORGET 0.001  /* the record surprise decays over ~1,000 values */
#define QUIET_VALUES  100    /* after an alarm, the values it covers */
#define SEASON_MAX_S  10800  /* sampled every three hours or more, a series has no hour rhythm */

void vd_anomaly_model_init(vd_anomaly_model_t *m) {
    memset(m, 0, sizeof *m);
}

/* Hour of day and day of week (UTC) of a Unix time; 1970-01-01 was a Thursday. */
static void clock_slots(int64_t t, int *hour, int *day) {
    int64_t days = t >= 0 ? t / 86400 : (t - 86399) / 86400;
    int64_t secs = t - days * 86400;
    *hour = (int)(secs / 3600);
    *day = (int)(((days + 3) % 7 + 7) % 7);
}

/* The smallest spread worth telling apart: a flat series still has a scale, so that a change of
 * a part in a thousand of its range or level is noticed and rounding noise is not. */
static double spread_floor(const vd_anomaly_model_t *m) {
    double f = 1e-3 * (m->hi - m->lo);
    double g = 1e-4 * fabs(m->slow);
    return fmax(fmax(f, g), 1e-9);
}

static double predict(const vd_anomaly_model_t *m, int k, int hour, int day) {
    switch (k) {
    case VD_ANOMALY_PRED_LAST:
        return m->last;
    case VD_ANOMALY_PRED_LEVEL:
        return m->level;
    default:
        if (m->interval > SEASON_MAX_S) return m->slow;
        return m->slow + m->hour[hour] + m->day[day];
    }
}

/* The predictor that has erred least lately; ties go to the simpler one. */
static int best_predictor(const vd_anomaly_model_t *m) {
    int best = VD_ANOMALY_PRED_LEVEL;
    for (int k = 0; k < VD_ANOMALY_PREDS; k++)
        if (m->err[k] < 0.9 * m->err[best]) best = k;
    return best;
}

static void score_value(const vd_anomaly_model_t *m, double x, int hour, int day,
                        vd_anomaly_result_t *r) {
    int k = best_predictor(m);
    double floor = spread_floor(m);
    double err = fmax(1.25 * m->err[k], floor); /* 1.25 mean deviations: about one sigma */
    r->expected = predict(m, k, hour, day);
    r->low = r->expected - BAND_SPREADS * err;
    r->high = r->expected + BAND_SPREADS * err;
    double z = fabs(x - r->expected) / err;
    double out = 0, spread = fmax(m->spread, floor);
    if (x > m->hi) out = (x - m->hi) / spread;
    if (x < m->lo) out = (m->lo - x) / spread;
    r->surprise = z + out;
    if (k == VD_ANOMALY_PRED_SEASONAL && m->interval <= SEASON_MAX_S) r->why |= VD_ANOMALY_SEASONAL;
    if (out > 0) r->why |= VD_ANOMALY_NOVEL;
    if (x > r->high) r->why |= VD_ANOMALY_ABOVE;
    if (x < r->low) r->why |= VD_ANOMALY_BELOW;
}

static double ewma(double avg, double x, double rate) {
    return avg + rate * (x - avg);
}

/* A moving average's rate: a plain average over the first values, so that a young model is
 * not dominated by its first value, then the configured memory. */
static double rate_of(const vd_anomaly_model_t *m, double rate) {
    return fmax(rate, 1.0 / (double)m->seen);
}

static void learn(vd_anomaly_model_t *m, int64_t t, double x, int hour, int day) {
    for (int k = 0; k < VD_ANOMALY_PREDS; k++)
        m->err[k] = ewma(m->err[k], fabs(x - predict(m, k, hour, day)), rate_of(m, ERR_RATE));
    int64_t dt = t - m->last_time;
    if (dt > 0) m->interval = m->interval > 0 ? ewma(m->interval, (double)dt, 0.05) : (double)dt;
    /* An hour slot sees one value in (3600 / interval): its rate keeps its memory near a week
     * of that slot whatever the sampling. */
    double per_hour = m->interval > 0 ? fmax(3600.0 / m->interval, 1.0) : 1.0;
    double hour_rate = fmin(0.2, 0.15 / per_hour);
    double season = m->hour[hour] + m->day[day];
    m->hour[hour] = (float)ewma(m->hour[hour], x - m->slow - m->day[day], hour_rate);
    m->day[day] = (float)ewma(m->day[day], x - m->slow - m->hour[hour], DAY_RATE * hour_rate);
    m->slow = ewma(m->slow, x - season, rate_of(m, SLOW_RATE));
    m->spread = ewma(m->spread, fabs(x - m->slow - season), rate_of(m, SPREAD_RATE));
    m->level = ewma(m->level, x, rate_of(m, LEVEL_RATE));
    m->hi = fmax(x, m->hi - FORGET * (m->hi - m->level));
    m->lo = fmin(x, m->lo + FORGET * (m->level - m->lo));
    m->last = x;
    m->last_time = t;
}

static void first_value(vd_anomaly_model_t *m, int64_t t, double x) {
    m->last = m->level = m->slow = m->lo = m->hi = x;
    m->last_time = t;
}

/* The score compares the surprise with the largest the series has shown lately (a maximum
 * that decays towards the usual surprise): a value is an anomaly when it is more surprising than
 * anything the series did in its recent past, which fits spiky and smooth series alike. The
 * short-run average is compared the same way, for changes made of many mildly odd values. */
static double surprise_score(vd_anomaly_model_t *m, double surprise) {
    m->surprise_short = ewma(m->surprise_short, surprise, SHORT_RATE);
    double s1 = surprise / (surprise + m->surprise_var + 1e-9);
    double s2 = m->surprise_short / (m->surprise_short + m->surprise_mean + 1e-9);
    double s = fmax(s1, s2);
    if (m->seen < WARMUP) { /* the first surprises are the model's own ignorance */
        m->surprise_var = m->surprise_mean = 0;
        return 0;
    }
    double typical = m->surprise_short;
    m->surprise_var = fmax(surprise, m->surprise_var - RECORD_FORGET * (m->surprise_var - typical));
    m->surprise_mean =
        fmax(m->surprise_short, m->surprise_mean - RECORD_FORGET * (m->surprise_mean - typical));
    if (m->quiet > 0) {
        m->quiet--;
        return s * 0.98 * VD_ANOMALY_ALARM;
    }
    if (s >= VD_ANOMALY_ALARM) m->quiet = QUIET_VALUES;
    return s;
}

int vd_anomaly_model_observe(vd_anomaly_model_t *m, int64_t t, double value,
                             vd_anomaly_result_t *out) {
    if (!isfinite(value)) return VD_EINVAL;
    memset(out, 0, sizeof *out);
    out->value = value;
    out->seen = m->seen;
    if (m->seen == 0) {
        first_value(m, t, value);
        m->seen = 1;
        out->expected = out->low = out->high = value;
        out->why = VD_ANOMALY_LEARNING;
        return 0;
    }
    if (t < m->last_time) t = m->last_time;
    int hour, day;
    clock_slots(t, &hour, &day);
    score_value(m, value, hour, day, out);
    double s = surprise_score(m, out->surprise);
    m->seen++;
    if (out->seen < WARMUP) {
        out->why |= VD_ANOMALY_LEARNING;
        s = 0;
    }
    out->score = s;
    learn(m, t, value, hour, day);
    return 0;
}

int vd_anomaly_explain(const vd_anomaly_result_t *r, const char *what, char *buf, size_t cap) {
    if (cap == 0) return VD_ELIMIT;
    const char *side = r->why & VD_ANOMALY_ABOVE   ? ", above"
                       : r->why & VD_ANOMALY_BELOW ? ", below"
                                                   : "";
    int n;
    if (r->why & VD_ANOMALY_LEARNING)
        n = snprintf(buf, cap, "%s: %.6g (learning: %llu values seen)", what, r->value,
                     (unsigned long long)r->seen);
    else
        n = snprintf(buf, cap, "%s: %.6g, expected %.6g-%.6g (score %.2f%s%s%s)", what, r->value,
                     fmax(r->low, r->low), r->high, r->score, side,
                     r->why & VD_ANOMALY_NOVEL ? ", never seen lately" : "",
                     r->why & VD_ANOMALY_SEASONAL ? ", for this time of day" : "");
    return n < 0 || (size_t)n >= cap ? VD_ELIMIT : 0;
}
