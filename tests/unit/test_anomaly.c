/* Anomaly models of series: determinism, what is scored high and what is not, the explanation,
 * the memory cap and its evictions, threads. */
#include "base/error.h"
#include "state/anomaly.h"
#include "vd_test.h"

#include <math.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#define T0   1767225600 /* a Thursday, 00:00 UTC */
#define STEP 300        /* a value every five minutes */
#define DAY  (86400 / STEP)

/* A daily rhythm (quiet nights, a peak in the afternoon) with a little deterministic noise. */
static double periodic(int i, unsigned *seed) {
    *seed = *seed * 1103515245u + 12345u;
    double noise = ((double)((*seed >> 8) % 1000) / 1000.0 - 0.5) * 4.0;
    double phase = 2 * M_PI * (double)(i % DAY) / DAY;
    return 100 + 40 * sin(phase - M_PI / 2) + noise;
}

/* A model trained on `days` days of the rhythm; *max_score gets the highest score of the last
 * `judged` days (the ordinary peaks once the rhythm is learnt). */
static void train(vd_anomaly_model_t *m, int days, int judged, double *max_score) {
    unsigned seed = 7;
    vd_anomaly_model_init(m);
    *max_score = 0;
    for (int i = 0; i < days * DAY; i++) {
        vd_anomaly_result_t r;
        CU_ASSERT_EQUAL(vd_anomaly_model_observe(m, T0 + (int64_t)i * STEP, periodic(i, &seed), &r),
                        0);
        if (i >= (days - judged) * DAY) *max_score = fmax(*max_score, r.score);
    }
}

static void test_deterministic(void) {
    vd_anomaly_model_t a, b;
    double sa, sb;
    train(&a, 6, 1, &sa);
    train(&b, 6, 1, &sb);
    CU_ASSERT_EQUAL(memcmp(&a, &b, sizeof a), 0);
    CU_ASSERT_EQUAL(sa, sb);
    /* through the keyed store, the same model */
    vd_store_t *s = vd_store_new(1 << 20);
    unsigned seed = 7;
    for (int i = 0; i < 6 * DAY; i++) {
        vd_anomaly_result_t r;
        vd_anomaly_observe(s, "k", 1, T0 + (int64_t)i * STEP, periodic(i, &seed), 0, &r);
    }
    vd_anomaly_model_t c;
    CU_ASSERT_EQUAL_FATAL(vd_anomaly_get(s, "k", 1, &c), 0);
    CU_ASSERT_EQUAL(memcmp(&a, &c, sizeof a), 0);
    vd_store_free(s);
}

static void test_daily_peaks_are_ordinary(void) {
    vd_anomaly_model_t m;
    double max_score;
    train(&m, 10, 4, &max_score);
    if (max_score >= VD_ANOMALY_ALARM)
        fprintf(stderr, "\n  ordinary peak scored %.3f\n", max_score);
    CU_ASSERT(max_score < VD_ANOMALY_ALARM);
}

/* The next value at the rhythm's time, offset by delta, on a copy of the trained model. */
static vd_anomaly_result_t next_value(const vd_anomaly_model_t *trained, int i, double delta) {
    vd_anomaly_model_t m = *trained;
    unsigned seed = 99;
    vd_anomaly_result_t r;
    vd_anomaly_model_observe(&m, T0 + (int64_t)i * STEP, periodic(i, &seed) + delta, &r);
    return r;
}

static void test_spike_and_shift_score_high(void) {
    vd_anomaly_model_t m;
    double max_score;
    train(&m, 8, 1, &max_score);
    int i = 8 * DAY;
    vd_anomaly_result_t ordinary = next_value(&m, i, 0);
    CU_ASSERT(ordinary.score < VD_ANOMALY_ALARM);
    vd_anomaly_result_t spike = next_value(&m, i, 150);
    CU_ASSERT(spike.score >= VD_ANOMALY_ALARM);
    CU_ASSERT(spike.why & VD_ANOMALY_ABOVE);
    CU_ASSERT(spike.value > spike.high);
    CU_ASSERT(spike.expected >= spike.low && spike.expected <= spike.high);
    /* a level shift: every value from here on 30 lower (three quarters of the rhythm's swing) */
    vd_anomaly_model_t shifted = m;
    unsigned seed = 5;
    double first = 0;
    for (int k = 0; k < 3; k++) {
        vd_anomaly_result_t r;
        vd_anomaly_model_observe(&shifted, T0 + (int64_t)(i + k) * STEP,
                                 periodic(i + k, &seed) - 30, &r);
        first = fmax(first, r.score);
    }
    CU_ASSERT(first >= VD_ANOMALY_ALARM);
}

static void test_explain(void) {
    vd_anomaly_model_t m;
    double max_score;
    train(&m, 8, 1, &max_score);
    vd_anomaly_result_t spike = next_value(&m, 8 * DAY, 150);
    char buf[256];
    CU_ASSERT_EQUAL(vd_anomaly_explain(&spike, "signups from AS64500", buf, sizeof buf), 0);
    CU_ASSERT(strstr(buf, "signups from AS64500: ") == buf);
    CU_ASSERT(strstr(buf, "expected ") != NULL);
    CU_ASSERT(strstr(buf, "above the usual range") != NULL);
    char small[16];
    CU_ASSERT_EQUAL(vd_anomaly_explain(&spike, "signups", small, sizeof small), VD_ELIMIT);
    CU_ASSERT_EQUAL(strlen(small), sizeof small - 1);
    vd_anomaly_model_t fresh;
    vd_anomaly_result_t r;
    vd_anomaly_model_init(&fresh);
    vd_anomaly_model_observe(&fresh, T0, 5, &r);
    CU_ASSERT(r.why & VD_ANOMALY_LEARNING);
    CU_ASSERT_EQUAL(r.score, 0);
    vd_anomaly_explain(&r, "x", buf, sizeof buf);
    CU_ASSERT(strstr(buf, "learning") != NULL);
}

static void test_bad_values(void) {
    vd_store_t *s = vd_store_new(1 << 20);
    vd_anomaly_result_t r;
    CU_ASSERT_EQUAL(vd_anomaly_observe(s, "k", 1, T0, NAN, 0, &r), VD_EINVAL);
    CU_ASSERT_EQUAL(vd_anomaly_observe(s, "k", 1, T0, INFINITY, 0, &r), VD_EINVAL);
    CU_ASSERT_EQUAL(vd_anomaly_observe(s, "k", 1, T0, -2 * VD_ANOMALY_VALUE_MAX, 0, &r), VD_EINVAL);
    vd_store_stats_t st;
    vd_store_stats(s, &st);
    CU_ASSERT_EQUAL(st.entries, 0); /* no model made for a bad value */
    /* a time going backwards counts as the last time */
    CU_ASSERT_EQUAL(vd_anomaly_observe(s, "k", 1, T0 + 60, 1, 0, &r), 0);
    CU_ASSERT_EQUAL(vd_anomaly_observe(s, "k", 1, T0, 1, 0, &r), 0);
    vd_anomaly_model_t m;
    vd_anomaly_get(s, "k", 1, &m);
    CU_ASSERT_EQUAL(m.last_time, T0 + 60);
    /* times at the ends of the range: no overflow (UBSan would stop the run) */
    const int64_t extremes[] = {INT64_MIN, -1, 0, INT64_MAX, INT64_MIN};
    for (size_t i = 0; i < sizeof extremes / sizeof *extremes; i++) {
        double v = i % 2 ? VD_ANOMALY_VALUE_MAX : -VD_ANOMALY_VALUE_MAX;
        CU_ASSERT_EQUAL(vd_anomaly_observe(s, "far", 3, extremes[i], v, 0, &r), 0);
        CU_ASSERT(r.score >= 0 && r.score <= 1);
    }
    vd_anomaly_model_t far;
    vd_anomaly_get(s, "far", 3, &far);
    CU_ASSERT(isfinite(far.level) && isfinite(far.err[0]) && isfinite(far.ref_value.peak));
    for (int i = 0; i < VD_ANOMALY_SLOTS; i++)
        CU_ASSERT(isfinite(far.slot[i]));
    vd_store_free(s);
}

/* Models are records of the store: past its cap the coldest series go, like counters. */
static void test_memory_cap_evicts_coldest(void) {
    vd_store_t *s = vd_store_new(64 * 12 * 1200); /* about a dozen models a shard */
    char key[16];
    vd_anomaly_result_t r;
    for (int i = 0; i < 5000; i++) {
        snprintf(key, sizeof key, "series:%05d", i);
        CU_ASSERT_EQUAL(vd_anomaly_observe(s, key, 12, T0 + i, i, 0, &r), 0);
        /* series 0 is hot: seen all along, it is never the coldest */
        CU_ASSERT_EQUAL(vd_anomaly_observe(s, "series:00000", 12, T0 + i, 1, 0, &r), 0);
    }
    vd_store_stats_t st;
    vd_store_stats(s, &st);
    CU_ASSERT(st.bytes <= 64 * 12 * 1200);
    CU_ASSERT_EQUAL(st.entries + st.evictions, 5000);
    CU_ASSERT(st.evictions > 4000);
    /* every model is a record: the figures by kind say so */
    CU_ASSERT_EQUAL(st.kinds[VD_STORE_RECORD].entries, st.entries);
    CU_ASSERT_EQUAL(st.kinds[VD_STORE_RECORD].bytes, st.bytes);
    CU_ASSERT_EQUAL(st.kinds[VD_STORE_RECORD].evictions, st.evictions);
    CU_ASSERT_EQUAL(st.kinds[VD_STORE_COUNTER].entries + st.kinds[VD_STORE_COUNTER].evictions, 0);
    vd_anomaly_model_t m;
    CU_ASSERT_EQUAL(vd_anomaly_get(s, "series:00000", 12, &m), 0);
    CU_ASSERT_EQUAL(m.seen, 5001);
    CU_ASSERT_EQUAL(vd_anomaly_get(s, "series:04999", 12, &m), 0);
    CU_ASSERT_EQUAL(vd_anomaly_get(s, "series:00001", 12, &m), VD_ENOTFOUND);
    vd_store_free(s);
}

/* A model learns one value a period (every): the other values of the period are scored on a
 * copy and leave it as it was. */
static void test_one_value_a_period(void) {
    vd_store_t *s = vd_store_new(1 << 20);
    vd_anomaly_result_t r;
    for (int i = 0; i < 120; i++) /* two hours, a value every minute, learnt every 10 minutes */
        CU_ASSERT_EQUAL(vd_anomaly_observe(s, "k", 1, T0 + i * 60, 5, 600, &r), 0);
    vd_anomaly_model_t m;
    CU_ASSERT_EQUAL(vd_anomaly_get(s, "k", 1, &m), 0);
    CU_ASSERT_EQUAL(m.seen, 12);
    vd_store_free(s);
}

typedef struct worker {
    vd_store_t *s;
    int id;
    double last_score;
} worker_t;

/* Each thread feeds a series of its own and a shared one. */
static void *feed(void *arg) {
    worker_t *w = arg;
    char key[16];
    snprintf(key, sizeof key, "own:%d", w->id);
    unsigned seed = 7;
    for (int i = 0; i < 4 * DAY; i++) {
        vd_anomaly_result_t r;
        vd_anomaly_observe(w->s, key, strlen(key), T0 + (int64_t)i * STEP, periodic(i, &seed), 0,
                           &r);
        w->last_score = r.score;
        vd_anomaly_observe(w->s, "shared", 6, T0 + (int64_t)i * STEP, 1.0, 0, &r);
    }
    return NULL;
}

static void test_two_threads(void) {
    vd_store_t *s = vd_store_new(1 << 20);
    worker_t w[2] = {{s, 0, 0}, {s, 1, 0}};
    pthread_t t[2];
    for (int i = 0; i < 2; i++)
        pthread_create(&t[i], NULL, feed, &w[i]);
    for (int i = 0; i < 2; i++)
        pthread_join(t[i], NULL);
    vd_store_stats_t st;
    vd_store_stats(s, &st);
    CU_ASSERT_EQUAL(st.entries, 3);
    vd_anomaly_model_t a, b, shared;
    CU_ASSERT_EQUAL(vd_anomaly_get(s, "own:0", 5, &a), 0);
    CU_ASSERT_EQUAL(vd_anomaly_get(s, "own:1", 5, &b), 0);
    CU_ASSERT_EQUAL(memcmp(&a, &b, sizeof a), 0); /* same values: same model, whatever the timing */
    CU_ASSERT_EQUAL(w[0].last_score, w[1].last_score);
    CU_ASSERT_EQUAL(vd_anomaly_get(s, "shared", 6, &shared), 0);
    CU_ASSERT_EQUAL(shared.seen, 2 * 4 * DAY); /* every value of both threads, none lost */
    vd_store_free(s);
}

void vd_suite_anomaly(void) {
    static const vd_test_t tests[] = {
        {"the same values give the same model and scores", test_deterministic},
        {"ordinary daily peaks score low", test_daily_peaks_are_ordinary},
        {"a spike and a level shift score high", test_spike_and_shift_score_high},
        {"the explanation names the value, the band and why", test_explain},
        {"values that are not numbers change nothing", test_bad_values},
        {"the memory cap evicts the coldest series", test_memory_cap_evicts_coldest},
        {"one value learnt a period", test_one_value_a_period},
        {"two threads share the series", test_two_threads},
        {NULL, NULL}};
    vd_add_suite("anomaly", tests);
}
