/* verdict-snapshot-bench: what a state snapshot of a large store costs, and what it costs the
 * decisions that run meanwhile. Fills a store with a million counters, 100,000 distinct counts
 * and 100,000 labels; one thread counts on random keys (a worker) while another writes the
 * snapshot (the thread pool), and the counting thread's latencies are compared with those of
 * a run without a snapshot. Then the file is read back into an empty store.
 * Usage: verdict-snapshot-bench [PATH] (default: a file in a temporary directory, removed);
 * VD_SNAPSHOT_BENCH_COUNTERS changes the number of counters. */
#include "state/snapshot_read.h"
#include "state/snapshot_write.h"
#include "state/store.h"

#include "bench_time.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define MAX_SAMPLES (16 << 20)

typedef struct phase {
    vd_store_t *s;
    int64_t now; /* the wall clock: a daemon can load the file this leaves behind */
    long keys;
    atomic_int stop;
    uint32_t *ns; /* one latency per operation, up to MAX_SAMPLES */
    size_t n;
} phase_t;

static int key_of(char *key, unsigned k) {
    return snprintf(key, 32, "signup:ip:%08x", k);
}

/* A worker: counter increments on random keys, each timed. */
static void *count(void *arg) {
    phase_t *p = arg;
    unsigned x = 777;
    uint64_t c[VD_WINDOWS];
    char key[32];
    while (!atomic_load(&p->stop) && p->n < MAX_SAMPLES) {
        x = x * 1103515245u + 12345u;
        int len = key_of(key, (x >> 4) % (unsigned)p->keys);
        double t0 = now_ns();
        vd_store_count(p->s, key, (size_t)len, 1, p->now, c);
        p->ns[p->n++] = (uint32_t)(now_ns() - t0);
    }
    return NULL;
}

static int cmp_u32(const void *a, const void *b) {
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return (x > y) - (x < y);
}

static void report(const char *what, phase_t *p, double seconds) {
    qsort(p->ns, p->n, sizeof *p->ns, cmp_u32);
    size_t slow = 0;
    for (size_t i = 0; i < p->n; i++)
        slow += p->ns[i] > 100000;
    printf("  increments %s: %zu in %.2f s, p50 %u ns, p99 %u ns, p99.9 %u ns, max %.2f ms, "
           "%zu over 100 us\n",
           what, p->n, seconds, p->ns[p->n / 2], p->ns[p->n * 99 / 100], p->ns[p->n * 999 / 1000],
           p->ns[p->n - 1] / 1e6, slow);
}

static void fill(vd_store_t *s, long counters, int64_t now) {
    uint64_t c[VD_WINDOWS];
    double est;
    char key[32], v[16];
    for (long k = 0; k < counters; k++)
        vd_store_count(s, key, (size_t)key_of(key, (unsigned)k), 1 + (unsigned)k % 7, now, c);
    for (int k = 0; k < 100000; k++) {
        int len = snprintf(key, sizeof key, "login:accounts:%d", k);
        for (int i = 0; i < 5; i++)
            vd_store_distinct(s, key, (size_t)len, v, (size_t)snprintf(v, sizeof v, "a%d", i), now,
                              3600, &est);
        vd_store_label(s, key, (size_t)snprintf(key, sizeof key, "seen:%d:DE", k), now, 86400);
    }
}

/* Counting for a while, with (path) or without a snapshot written meanwhile. */
static void run(phase_t *p, const char *path, vd_state_snapshot_info_t *info) {
    pthread_t t;
    char err[512];
    p->n = 0;
    atomic_store(&p->stop, 0);
    double t0 = now_ns();
    pthread_create(&t, NULL, count, p);
    if (path && vd_state_snapshot_write(p->s, NULL, path, p->now, info, err, sizeof err) != 0) {
        fprintf(stderr, "snapshot: %s\n", err);
        exit(1);
    }
    if (!path) usleep(1500000);
    atomic_store(&p->stop, 1);
    pthread_join(t, NULL);
    report(path ? "during the snapshot" : "without a snapshot", p, (now_ns() - t0) / 1e9);
}

int main(int argc, char **argv) {
    const char *env = getenv("VD_SNAPSHOT_BENCH_COUNTERS");
    long counters = env ? atol(env) : 1000000;
    char dir[] = "/tmp/vd-snapshot-bench-XXXXXX", path[4096];
    if (argc > 1)
        snprintf(path, sizeof path, "%s", argv[1]);
    else if (mkdtemp(dir))
        snprintf(path, sizeof path, "%s/state.snap", dir);
    else
        return 1;
    phase_t p = {.s = vd_store_new((size_t)1 << 30), .keys = counters, .now = time(NULL)};
    p.ns = malloc(MAX_SAMPLES * sizeof *p.ns);
    if (!p.s || !p.ns) return 1;
    fill(p.s, counters, p.now);
    vd_store_stats_t st;
    vd_store_stats(p.s, &st);
    printf("snapshot: %llu entries (%ld counters, 100000 distinct counts, 100000 labels), "
           "%.0f MB in memory\n",
           (unsigned long long)st.entries, counters, st.bytes / 1e6);
    vd_state_snapshot_info_t info;
    run(&p, NULL, NULL);
    run(&p, path, &info);
    printf("  write: %.0f ms for %.1f MB (fsyncs included), longest shard lock %.2f ms\n",
           info.elapsed_ns / 1e6, info.bytes / 1e6, info.longest_lock_ns / 1e6);
    vd_store_t *again = vd_store_new((size_t)1 << 30);
    char err[512];
    if (!again || vd_state_snapshot_read(again, NULL, path, p.now, &info, err, sizeof err) != 0) {
        fprintf(stderr, "read: %s\n", err);
        return 1;
    }
    printf("  read: %.0f ms for %llu entries\n", info.elapsed_ns / 1e6,
           (unsigned long long)info.entries);
    if (argc <= 1) {
        unlink(path);
        rmdir(dir);
    }
    vd_store_free(again);
    vd_store_free(p.s);
    free(p.ns);
    return 0;
}
