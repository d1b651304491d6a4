#include "anomaly_model.h"

#include "base/error.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

/* One fixed configuration for every series. Nothing here is tuned to a particular series: what
 * differs between series (scale, sampling interval, rhythm, how spiky they are) is learnt
 * online; the rates that depend on the sampling are derived from the interval seen. */
#define WARMUP        30    /* values learnt before any score: a new series says "learning" */
#define LEVEL_RATE    0.1   /* the fast level follows the last ten values or so */
#define SLOW_RATE     0.01  /* the level under the rhythm: the last hundred values, or a day */
#define ERR_RATE      0.003 /* the predictors' errors: the last few hundred values */
#define SPREAD_RATE   0.01  /* the spread around the rhythm */
#define SLOT_DAY_RATE 0.35  /* a time-of-day slot learns about a third of each new day */
#define DAY_RATE      0.2   /* a day of the week, a fifth of each new week */
#define ENVELOPE_RATE 5e-4  /* the envelope forgets its extremes over a few thousand values */
#define FAR_RATE      1e-4  /* the far envelope, over ten thousand values or so */
#define STRETCH       256   /* a value meets the far envelope of one to two stretches ago */
#define FLOOR_RANGE   0.02  /* the smallest error counted: 2% of the envelope */
#define BEYOND_RANGE  0.05  /* beyond the envelope, distance counts in 5% of it at least */
#define SEASON_MAX_S  10800 /* sampled every three hours or more, a series has no day rhythm */
#define BAND_ERRORS   3.0   /* the band is the expectation plus or minus three typical errors */
#define SURPRISE_MAX  1000  /* a surprise beyond this says nothing more */
#define RECENT_RATE   0.3   /* the short-run surprise: the last three or four values */
#define DRIFT_RATE    0.05  /* the distance from the rhythm: the last twenty values */
#define TAIL_P        0.99  /* the quantile a reference tracks: one value in a hundred */
#define TAIL_STEP     0.05  /* how fast (on a log scale) the quantile moves */
#define TAIL_TIMES    2.0   /* a measure is unusual from twice its tail ... */
#define TAIL_MIN      1.0   /* ... and never under one typical error */
#define PEAK_FORGET   0.003 /* a peak fades towards the tail over a few hundred values */
#define PEAK_SHARE    0.7   /* a measure is unusual from 70% of its recent peak */
#define SLOT_PEAK_DAY 0.8   /* a time of day keeps 80% of its peak surprise from day to day */
#define EPOCH         2000  /* the succession memory: the last two to four thousand values */
#define NOVELTY_RATE  0.001 /* how often successions are new: the last thousand values */
#define NOVELTY_HALF  5.0   /* a new succession scores 0.5 when novelty is rarer than e^-5 */
#define BEYOND_HALF   0.25  /* a quarter of the far envelope beyond it scores 0.5 */
#define QUIET_VALUES  100   /* after an alarm, the values it covers */
#define QUIET_DAMP    0.49  /* and what their score is multiplied by */
#define QUIET_OVER    0.2   /* unless one scores this much more than the alarm: a new alarm */

#define SLOT_S 900 /* seconds in a slot of the day */
_Static_assert(86400 == SLOT_S * VD_ANOMALY_SLOTS, "the slots make a day");

_Static_assert(sizeof(vd_anomaly_model_t) == 1112, "docs/anomaly.md gives the model's size");

/* Plain comparisons: libm's fmax and fmin are calls that handle NaN, which never gets here. */
static inline double max2(double a, double b) {
    return a > b ? a : b;
}

static inline double min2(double a, double b) {
    return a < b ? a : b;
}

void vd_anomaly_model_init(vd_anomaly_model_t *m) {
    memset(m, 0, sizeof *m);
}

/* Where a time falls in the rhythm: its slot of the day and its day of the week (UTC). */
typedef struct when {
    int slot, day;
} when_t;

/* Any time, far past and future included (no overflow): 1970-01-01 was a Thursday. */
static when_t when_of(int64_t t) {
    int64_t days = t / 86400, secs = t % 86400;
    if (secs < 0) secs += 86400, days--;
    return (when_t){(int)(secs / SLOT_S), (int)(((days % 7) + 7 + 3) % 7)};
}

static int has_rhythm(const vd_anomaly_model_t *m) {
    return m->interval > 0 && m->interval <= SEASON_MAX_S;
}

static double season(const vd_anomaly_model_t *m, when_t w) {
    return has_rhythm(m) ? (double)m->slot[w.slot] + m->day[w.day] : 0;
}

static double ewma(double avg, double x, double rate) {
    return avg + rate * (x - avg);
}

/* A moving average's rate: a plain average over the first values, so that a young model is
 * not dominated by its first value, then the configured memory. */
static double rate_of(const vd_anomaly_model_t *m, double rate) {
    return max2(rate, 1.0 / (double)m->seen);
}

/* Values per slot of the day: each slot sees (SLOT_S / interval) values a day. */
static double per_slot(const vd_anomaly_model_t *m) {
    return m->interval > 0 ? max2(SLOT_S / m->interval, 1.0) : 1.0;
}

/* The smallest error worth telling apart: a flat series still has a scale, so that a change of
 * a few percent of its range is noticed and rounding noise is not. */
static double error_floor(const vd_anomaly_model_t *m) {
    return max2(max2(FLOOR_RANGE * (m->hi - m->lo), 1e-4 * fabs(m->slow)), 1e-9);
}

static double predict(const vd_anomaly_model_t *m, int k, when_t w) {
    switch (k) {
    case VD_ANOMALY_PRED_LAST:
        return m->last;
    case VD_ANOMALY_PRED_LEVEL:
        return m->level;
    case VD_ANOMALY_PRED_SEASONAL:
        return m->slow + season(m, w);
    default:
        return m->last + season(m, w) - season(m, when_of(m->last_time));
    }
}

/* Every predictor's prediction for time w: computed once per value, since scoring and learning
 * both see the model as it was before the value. */
static void predict_all(const vd_anomaly_model_t *m, when_t w, double pred[VD_ANOMALY_PREDS]) {
    for (int k = 0; k < VD_ANOMALY_PREDS; k++)
        pred[k] = predict(m, k, w);
}

/* The predictor that has erred least over the long run; ties go to the simpler one. */
static int best_predictor(const vd_anomaly_model_t *m) {
    int best = VD_ANOMALY_PRED_LEVEL;
    for (int k = 0; k < VD_ANOMALY_PREDS; k++)
        if (m->err[k] < 0.9 * m->err[best]) best = k;
    return best;
}

/* A value is only as surprising as its most charitable explanation says: its distance from
 * each predictor, in units of that predictor's typical error (1.25 mean absolute errors: about
 * one standard deviation), the smallest counting, so that a step of the daily rhythm or a random
 * walk's move is not an anomaly. Values beyond the envelope add their distance. What the model
 * expects (and its band) is the prediction of the predictor that has erred least. */
static void score_value(const vd_anomaly_model_t *m, double x, const double *pred,
                        vd_anomaly_result_t *r) {
    double floor = error_floor(m);
    int k = best_predictor(m);
    double err = max2(1.25 * m->err[k], floor);
    r->expected = pred[k];
    r->low = r->expected - BAND_ERRORS * err;
    r->high = r->expected + BAND_ERRORS * err;
    double z = fabs(x - r->expected) / err;
    for (int j = 0; j < VD_ANOMALY_PREDS; j++)
        z = min2(z, fabs(x - pred[j]) / max2(1.25 * m->err[j], floor));
    double out = 0, spread = max2(max2(m->spread, floor), BEYOND_RANGE * (m->hi - m->lo));
    if (x > m->hi) out = (x - m->hi) / spread;
    if (x < m->lo) out = (m->lo - x) / spread;
    r->surprise = z + out;
    if (k >= VD_ANOMALY_PRED_SEASONAL && has_rhythm(m)) r->why |= VD_ANOMALY_SEASONAL;
    if (out > 0) r->why |= VD_ANOMALY_NOVEL;
    if (x > r->high) r->why |= VD_ANOMALY_ABOVE;
    if (x < r->low) r->why |= VD_ANOMALY_BELOW;
}

/* How far the value is from the rhythm, signed, in the rhythm's own errors: many values on one
 * side of it make a day unlike the usual days even when each is unremarkable next to the last. */
static double rhythm_distance(const vd_anomaly_model_t *m, double x, const double *pred) {
    if (!has_rhythm(m)) return 0;
    double err = max2(1.25 * m->err[VD_ANOMALY_PRED_SEASONAL], error_floor(m));
    return (x - pred[VD_ANOMALY_PRED_SEASONAL]) / err;
}

/* A high quantile, tracked on a log scale: up a step when x is above it, down a small step
 * otherwise, so that it settles where x exceeds it one time in (1 / (1 - TAIL_P)). */
static double track_tail(double q, double x) {
    if (q <= 0) return x;
    return q * exp(x > q ? TAIL_STEP * TAIL_P : -TAIL_STEP * (1 - TAIL_P));
}

/* A measure compared with the series' own past: 0.5 when it reaches its usual tail (twice the
 * 99th percentile) or most of its recent peak, or what the same time of day has shown; towards
 * 1 beyond. Comparing each series with itself lets one threshold fit spiky and smooth series. */
static double relative(double x, const vd_anomaly_ref_t *ref, double elsewhere) {
    double base = max2(TAIL_TIMES * max2(ref->tail, TAIL_MIN), PEAK_SHARE * ref->peak);
    return x / (x + max2(base, elsewhere));
}

/* Learns x into a reference: the peak fades towards the tail. */
static void learn_ref(vd_anomaly_ref_t *ref, double x) {
    ref->tail = track_tail(ref->tail, x);
    ref->peak = max2(x, ref->tail + (ref->peak - ref->tail) * (1 - PEAK_FORGET));
}

/* The largest surprise seen lately around this time of day (the slot and its neighbours): a
 * surprise that comes back at the same hour every day is part of the rhythm. */
static double rhythm_peak(const vd_anomaly_model_t *m, when_t w) {
    if (!has_rhythm(m)) return 0;
    double p = m->slot_peak[w.slot];
    p = max2(p, m->slot_peak[(w.slot + 1) % VD_ANOMALY_SLOTS]);
    return max2(p, m->slot_peak[(w.slot + VD_ANOMALY_SLOTS - 1) % VD_ANOMALY_SLOTS]);
}

static void learn_rhythm_peak(vd_anomaly_model_t *m, when_t w, double surprise) {
    float *p = &m->slot_peak[w.slot];
    *p = (float)max2(surprise, *p * pow(SLOT_PEAK_DAY, 1.0 / per_slot(m)));
}

/* Which of the bands of the envelope the value is in. */
static int band_of(const vd_anomaly_model_t *m, double x) {
    double width = m->hi - m->lo;
    if (!(width > 0)) return 0;
    int b = (int)((x - m->lo) / width * VD_ANOMALY_BANDS);
    return b < 0 ? 0 : b >= VD_ANOMALY_BANDS ? VD_ANOMALY_BANDS - 1 : b;
}

/* A value that follows the previous one in a way (from band to band) the series has not shown
 * in the last epoch or two is new; what that means depends on how rare novelty has been. */
static double novelty_score(vd_anomaly_model_t *m, double x) {
    int b = band_of(m, x), pair = m->last_band * VD_ANOMALY_BANDS + b;
    uint64_t bit = 1ull << (pair & 63);
    int novel = !((m->pairs[0][pair >> 6] | m->pairs[1][pair >> 6]) & bit);
    double s = novel ? -log(max2(m->novelty, 1e-4)) : 0;
    m->novelty = ewma(m->novelty, novel, rate_of(m, NOVELTY_RATE));
    m->pairs[0][pair >> 6] |= bit;
    m->last_band = (uint8_t)b;
    if (m->seen % EPOCH == 0) {
        memcpy(m->pairs[1], m->pairs[0], sizeof m->pairs[0]);
        memset(m->pairs[0], 0, sizeof m->pairs[0]);
    }
    return s / (s + NOVELTY_HALF);
}

/* How far a value is beyond the far envelope (the range of the values of the last ten thousand or
 * so) as it stood one to two stretches ago, in widths of that envelope: 0 inside it. A value that
 * leaves the range of everything the series had shown for that long by a good share of the range
 * is unusual however noisy the series is and however its errors have grown; measured against the
 * range as it was before the current stretch, a climb that pushes the envelope out a little at
 * each value (a temperature rising for hours) is seen as the whole climb. */
static double beyond_envelope(const vd_anomaly_model_t *m, double x) {
    if (m->seen < 2 * STRETCH) return 0; /* no envelope of a stretch ago yet */
    /* a flat series still has a scale, as for the errors (error_floor): a change far below the
     * level's own rounding is not news */
    double width = max2(m->before_hi - m->before_lo, max2(1e-4 * fabs(m->slow), 1e-9));
    return min2(max2(max2(x - m->before_hi, m->before_lo - x), 0) / width, SURPRISE_MAX);
}

/* Each measure (this value's surprise, the last few values', the distance from the rhythm, a
 * new succession, how far beyond the far envelope) is scored against the series' own past (the
 * last against a quarter of the envelope's width or most of its own recent peak); the score is
 * the highest, and an alarm starts a quiet spell, which a much stronger value breaks (a weak
 * alarm must not hide the event that follows it). A new succession counts in full only when the
 * value is also a typical error or more from what was expected: noise wanders into new
 * successions. */
static double channels_score(vd_anomaly_model_t *m, double surprise, double distance,
                             double novelty, double beyond, when_t w, uint32_t *why) {
    surprise = min2(surprise, SURPRISE_MAX) + 1e-3;
    m->recent = ewma(m->recent, surprise, RECENT_RATE);
    if (m->seen < WARMUP) { /* the first surprises are the model's own ignorance */
        memset(&m->ref_value, 0, sizeof m->ref_value);
        memset(&m->ref_recent, 0, sizeof m->ref_recent);
        return 0;
    }
    double rp = rhythm_peak(m, w);
    learn_rhythm_peak(m, w, surprise);
    m->drift = ewma(m->drift, distance, DRIFT_RATE);
    double drift = fabs(m->drift) + 1e-3;
    double s[5] = {relative(surprise, &m->ref_value, rp),
                   relative(m->recent, &m->ref_recent, rp * RECENT_RATE),
                   relative(drift, &m->ref_drift, 0), novelty * min2(1.0, surprise),
                   beyond / (beyond + max2(BEYOND_HALF, PEAK_SHARE * m->beyond_peak))};
    m->beyond_peak = max2(beyond, m->beyond_peak * (1 - PEAK_FORGET));
    static const uint32_t flags[5] = {0, VD_ANOMALY_SHIFT, VD_ANOMALY_RHYTHM, VD_ANOMALY_PATTERN,
                                      VD_ANOMALY_NOVEL};
    int top = 0;
    for (int i = 1; i < 5; i++)
        if (s[i] > s[top]) top = i;
    double best = s[top];
    if (best >= VD_ANOMALY_ALARM) *why |= flags[top];
    learn_ref(&m->ref_value, surprise);
    learn_ref(&m->ref_recent, m->recent);
    learn_ref(&m->ref_drift, drift);
    if (m->quiet > 0 && best < m->quiet_level + QUIET_OVER) {
        m->quiet--;
        *why |= VD_ANOMALY_QUIET;
        return best * QUIET_DAMP;
    }
    if (best >= VD_ANOMALY_ALARM) {
        m->quiet = QUIET_VALUES;
        m->quiet_level = (float)best;
    }
    return best;
}

static void learn_rhythm(vd_anomaly_model_t *m, int64_t t, double x, when_t w) {
    /* rates that keep a memory of a few days (weeks) whatever the sampling, and average
     * plainly over the first ones */
    double days = ((double)t - (double)m->first_time) / 86400.0;
    double per_day = m->interval > 0 ? max2(86400.0 / m->interval, 1.0) : 1.0;
    double slot_rate = 1 - pow(1 - max2(SLOT_DAY_RATE, 1.0 / (days + 1.0)), 1.0 / per_slot(m));
    double day_rate = 1 - pow(1 - max2(DAY_RATE, 7.0 / (days + 7.0)), 1.0 / per_day);
    double now = season(m, w);
    m->slot[w.slot] = (float)ewma(m->slot[w.slot], x - m->slow - m->day[w.day], slot_rate);
    m->day[w.day] = (float)ewma(m->day[w.day], x - m->slow - m->slot[w.slot], day_rate);
    /* with a rhythm, the level under it moves over a day, so that it does not chase the
     * rhythm itself */
    double slow_rate = has_rhythm(m) ? min2(SLOW_RATE, m->interval / 86400.0) : SLOW_RATE;
    m->slow = ewma(m->slow, x - now, rate_of(m, slow_rate));
    m->spread = ewma(m->spread, fabs(x - m->slow - now), rate_of(m, SPREAD_RATE));
}

static void learn(vd_anomaly_model_t *m, int64_t t, double x, const double *pred, when_t w) {
    for (int k = 0; k < VD_ANOMALY_PREDS; k++)
        m->err[k] = ewma(m->err[k], fabs(x - pred[k]), rate_of(m, ERR_RATE));
    double dt = (double)t - (double)m->last_time; /* in double: no overflow, whatever the times */
    if (dt > 0) m->interval = m->interval > 0 ? ewma(m->interval, dt, 0.05) : dt;
    learn_rhythm(m, t, x, w);
    m->level = ewma(m->level, x, rate_of(m, LEVEL_RATE));
    m->hi = max2(x, m->hi - ENVELOPE_RATE * (m->hi - m->level));
    m->lo = min2(x, m->lo + ENVELOPE_RATE * (m->level - m->lo));
    m->far_hi = max2(x, m->far_hi - FAR_RATE * (m->far_hi - m->level));
    m->far_lo = min2(x, m->far_lo + FAR_RATE * (m->level - m->far_lo));
    if (m->seen % STRETCH == 0) {
        m->before_lo = m->then_lo, m->before_hi = m->then_hi;
        m->then_lo = m->far_lo, m->then_hi = m->far_hi;
    }
    m->last = x;
    m->last_time = t;
}

int vd_anomaly_model_observe(vd_anomaly_model_t *m, int64_t t, double value,
                             vd_anomaly_result_t *out) {
    if (!(fabs(value) <= VD_ANOMALY_VALUE_MAX)) return VD_EINVAL; /* NaN fails too */
    memset(out, 0, sizeof *out);
    out->value = value;
    out->seen = m->seen;
    if (m->seen == 0) {
        m->last = m->level = m->slow = m->lo = m->hi = m->far_lo = m->far_hi = value;
        m->first_time = m->last_time = t;
        m->seen = 1;
        out->expected = out->low = out->high = value;
        out->why = VD_ANOMALY_LEARNING;
        return 0;
    }
    if (t < m->last_time) t = m->last_time;
    when_t w = when_of(t);
    double pred[VD_ANOMALY_PREDS];
    predict_all(m, w, pred);
    score_value(m, value, pred, out);
    double distance = rhythm_distance(m, value, pred), novelty = novelty_score(m, value);
    double s = channels_score(m, out->surprise, distance, novelty, beyond_envelope(m, value), w,
                              &out->why);
    m->seen++;
    if (out->seen < WARMUP) {
        out->why = VD_ANOMALY_LEARNING;
        s = 0;
    }
    out->score = min2(max2(s, 0), 1);
    learn(m, t, value, pred, w);
    return 0;
}

/* The reasons a result's bits give, as words for people. */
static const struct {
    uint32_t bit;
    const char *text;
} reasons[] = {
    {VD_ANOMALY_ABOVE, "above the usual range"},
    {VD_ANOMALY_BELOW, "below the usual range"},
    {VD_ANOMALY_NOVEL, "beyond any value seen lately"},
    {VD_ANOMALY_SHIFT, "the last few values together"},
    {VD_ANOMALY_RHYTHM, "unlike this time on other days"},
    {VD_ANOMALY_PATTERN, "a succession not seen lately"},
    {VD_ANOMALY_QUIET, "just after an alarm"},
};

int vd_anomaly_explain(const vd_anomaly_result_t *r, const char *what, char *buf, size_t cap) {
    if (cap == 0) return VD_ELIMIT;
    size_t n;
    if (r->why & VD_ANOMALY_LEARNING) {
        n = (size_t)snprintf(buf, cap, "%s: %.6g (learning: %llu values seen)", what, r->value,
                             (unsigned long long)r->seen);
        return n >= cap ? VD_ELIMIT : 0;
    }
    n = (size_t)snprintf(buf, cap, "%s: %.6g, expected %.4g-%.4g%s (score %.2f", what, r->value,
                         r->low, r->high, r->why & VD_ANOMALY_SEASONAL ? " at this time" : "",
                         r->score);
    const char *sep = ": ";
    for (size_t i = 0; i < sizeof reasons / sizeof *reasons && n < cap; i++) {
        if (!(r->why & reasons[i].bit)) continue;
        n += (size_t)snprintf(buf + n, cap - n, "%s%s", sep, reasons[i].text);
        sep = ", ";
    }
    if (n < cap) n += (size_t)snprintf(buf + n, cap - n, ")");
    return n >= cap ? VD_ELIMIT : 0;
}
