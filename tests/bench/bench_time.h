/* What the single-threaded benchmarks share: a clock, and the median of their batches. */
#ifndef VD_BENCH_TIME_H
#define VD_BENCH_TIME_H

#include <stdlib.h>
#include <time.h>

#define BATCHES 31

static inline double now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

static inline int cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* Sorts the batch timings; t[BATCHES / 2] is then the median, t[0] the fastest. */
static inline void sort_batches(double *t) {
    qsort(t, BATCHES, sizeof *t, cmp_double);
}

#endif
