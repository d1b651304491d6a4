/* verdict-anomaly-bench: what scoring and learning one value of a series costs, single-threaded,
 * as the median of 31 batches: the model alone, one hot series through the keyed store, and
 * 100,000 series in turn (the models no longer in cache). Then the memory per series.
 * Usage: verdict-anomaly-bench, or verdict-anomaly-bench --count N to only feed N values of one
 * series (tests/bench/anomaly.sh counts its instructions under callgrind). */
#include "state/anomaly.h"

#include "bench_time.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define OPS    200000
#define SERIES 100000
#define T0     1767225600

/* A daily rhythm with noise, a value every five minutes. */
static double value_at(long i, unsigned *seed) {
    *seed = *seed * 1103515245u + 12345u;
    return 100 + 40 * sin(2 * M_PI * (double)(i % 288) / 288) + (double)((*seed >> 8) % 100) / 10;
}

static void report(const char *what, double *t) {
    sort_batches(t);
    printf("anomaly: %s: median %.0f ns per value (min %.0f)\n", what, t[BATCHES / 2], t[0]);
}

static void bench_model(void) {
    vd_anomaly_model_t m;
    vd_anomaly_model_init(&m);
    unsigned seed = 1;
    double t[BATCHES], sink = 0;
    long i = 0;
    for (int b = 0; b < BATCHES; b++) {
        double t0 = now_ns();
        for (int k = 0; k < OPS; k++, i++) {
            vd_anomaly_result_t r;
            vd_anomaly_model_observe(&m, T0 + i * 300, value_at(i, &seed), &r);
            sink += r.score;
        }
        t[b] = (now_ns() - t0) / OPS;
    }
    report(sink >= 0 ? "score + update, the model alone" : "", t);
}

/* keys: how many series the values go to in turn (1: one hot series). */
static void bench_store(vd_store_t *a, long keys, const char *what) {
    char key[32] = "signups:asn:";
    unsigned seed = 1, x = 12345;
    double t[BATCHES], sink = 0;
    long i = 0;
    for (int b = 0; b < BATCHES; b++) {
        double t0 = now_ns();
        for (int k = 0; k < OPS; k++, i++) {
            x = x * 1103515245u + 12345u;
            unsigned id = keys > 1 ? (x >> 8) % (unsigned)keys : 0;
            for (int d = 0; d < 8; d++)
                key[12 + d] = "0123456789abcdef"[(id >> (4 * d)) & 15];
            vd_anomaly_result_t r;
            vd_anomaly_observe(a, key, 20, T0 + (i / keys) * 300, value_at(i, &seed), 0, &r);
            sink += r.score;
        }
        t[b] = (now_ns() - t0) / OPS;
    }
    report(sink >= 0 ? what : "", t);
}

static int count_only(long n) {
    vd_store_t *a = vd_store_new((size_t)1 << 20);
    unsigned seed = 1;
    double sink = 0;
    for (long i = 0; i < n; i++) {
        vd_anomaly_result_t r;
        vd_anomaly_observe(a, "signups:asn:64500", 17, T0 + i * 300, value_at(i, &seed), 0, &r);
        sink += r.score;
    }
    vd_store_free(a);
    return sink >= 0 ? 0 : 1;
}

int main(int argc, char **argv) {
    if (argc == 3 && strcmp(argv[1], "--count") == 0) return count_only(strtol(argv[2], NULL, 10));
    bench_model();
    vd_store_t *a = vd_store_new((size_t)1 << 30);
    if (!a) return 1;
    bench_store(a, 1, "score + update, one series through the store");
    bench_store(a, SERIES, "score + update, 100,000 series in turn");
    vd_store_stats_t st;
    vd_store_stats(a, &st);
    printf("anomaly: memory per series: %.0f bytes with a 20-byte key (model %zu); "
           "%llu series hold %.1f MiB\n",
           st.entries ? (double)st.bytes / (double)st.entries : 0.0, sizeof(vd_anomaly_model_t),
           (unsigned long long)st.entries, (double)st.bytes / (1 << 20));
    vd_store_free(a);
    return 0;
}
