/* The embedded state store: windows, expiry, distinct counts, labels, eviction, threads, walks;
 * and the Redis client's command formatting, against hiredis's own. */
#include "base/error.h"
#include "state/redis_send.h"
#include "state/store.h"
#include "vd_test.h"

#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define T0 1767225600 /* some Unix time */

static void test_windows(void) {
    vd_store_t *s = vd_store_new(1 << 20);
    uint64_t c[VD_WINDOWS];
    for (int i = 0; i < 5; i++)
        CU_ASSERT_EQUAL(vd_store_count(s, "ip:1", 4, 1, T0 + i, c), 0);
    CU_ASSERT_EQUAL(c[0], 5);
    CU_ASSERT_EQUAL(c[1], 5);
    CU_ASSERT_EQUAL(c[2], 5);
    vd_store_count(s, "ip:1", 4, 0, T0 + 130, c); /* read only, two minutes later */
    CU_ASSERT_EQUAL(c[0], 0);
    CU_ASSERT_EQUAL(c[1], 5);
    vd_store_count(s, "ip:1", 4, 3, T0 + 2 * 3600, c);
    CU_ASSERT_EQUAL(c[0], 3);
    CU_ASSERT_EQUAL(c[1], 3); /* the first five are past the hour */
    CU_ASSERT_EQUAL(c[2], 8);
    vd_store_count(s, "ip:1", 4, 0, T0 + 3 * 86400, c); /* idle past its longest window */
    CU_ASSERT_EQUAL(c[2], 0);
    vd_store_count(s, "ip:2", 4, 0, T0, c); /* reading creates nothing */
    vd_store_stats_t st;
    vd_store_stats(s, &st);
    CU_ASSERT_EQUAL(st.entries, 0);
    CU_ASSERT_EQUAL(st.expired, 1);
    CU_ASSERT_EQUAL(st.kinds[VD_STORE_COUNTER].expired, 1);
    CU_ASSERT_EQUAL(st.kinds[VD_STORE_COUNTER].bytes, 0);
    vd_store_free(s);
}

static void test_distinct_error_bound(void) {
    vd_store_t *s = vd_store_new(1 << 20);
    double est = 0;
    char v[32];
    const int sizes[] = {10, 1000, 10000, 100000};
    int added = 0;
    for (size_t k = 0; k < sizeof sizes / sizeof *sizes; k++) {
        for (; added < sizes[k]; added++) {
            int n = snprintf(v, sizeof v, "user%d", added);
            vd_store_distinct(s, "d", 1, v, (size_t)n, T0, 0, &est);
        }
        /* 1,024 registers: standard error 3.25%; 4 sigma is 13% */
        double err = fabs(est - sizes[k]) / sizes[k];
        if (err > 0.13) fprintf(stderr, "\n  %d distinct, estimate %.0f\n", sizes[k], est);
        CU_ASSERT(err <= 0.13);
    }
    double again;
    for (int i = 0; i < 1000; i++)
        vd_store_distinct(s, "d", 1, "user7", 5, T0, 0, &again);
    CU_ASSERT_DOUBLE_EQUAL(again, est, 1e-9); /* repeats do not count */
    vd_store_distinct(s, "d2", 2, "x", 1, T0, 60, &est);
    vd_store_distinct(s, "d2", 2, NULL, 0, T0 + 61, 60, &est);
    CU_ASSERT_DOUBLE_EQUAL(est, 0, 1e-12); /* expired */
    vd_store_free(s);
}

static void test_labels(void) {
    vd_store_t *s = vd_store_new(1 << 20);
    CU_ASSERT_EQUAL(vd_store_label_ttl(s, "acct:9:flagged", 14, T0), 0);
    CU_ASSERT_EQUAL(vd_store_label(s, "acct:9:flagged", 14, T0, 7 * 86400), 0);
    CU_ASSERT_EQUAL(vd_store_label_ttl(s, "acct:9:flagged", 14, T0 + 86400), 6 * 86400);
    CU_ASSERT_EQUAL(vd_store_label_ttl(s, "acct:9:flagged", 14, T0 + 8 * 86400), 0);
    vd_store_label(s, "acct:9:x", 8, T0, 100);
    vd_store_label(s, "acct:9:x", 8, T0, 0); /* removed */
    CU_ASSERT_EQUAL(vd_store_label_ttl(s, "acct:9:x", 8, T0), 0);
    vd_store_free(s);
}

/* An operator's set and reset: each reports what was there and what is there now, and the next
 * operation of a rule sees the new entry. */
static void test_replace(void) {
    vd_store_t *s = vd_store_new(1 << 20);
    uint64_t c[VD_WINDOWS];
    int64_t old[VD_WINDOWS], cur[VD_WINDOWS];
    for (int i = 0; i < 7; i++)
        vd_store_count(s, "acct:a", 6, 1, T0 + i * 600, c); /* 7 in the day, 6 in the hour */
    CU_ASSERT_EQUAL(vd_store_replace(s, VD_STORE_COUNTER, "acct:a", 6, 0, T0 + 3600, 0, old, cur),
                    0);
    CU_ASSERT(old[0] == 1 && old[1] == 6 && old[2] == 7);
    CU_ASSERT(cur[0] == 0 && cur[1] == 0 && cur[2] == 0);
    vd_store_count(s, "acct:a", 6, 1, T0 + 3601, c);
    CU_ASSERT(c[0] == 1 && c[1] == 1 && c[2] == 1); /* counting starts again from nothing */
    CU_ASSERT_EQUAL(vd_store_replace(s, VD_STORE_COUNTER, "acct:a", 6, 40, T0 + 3700, 0, old, cur),
                    0);
    CU_ASSERT(old[2] == 1 && cur[0] == 40 && cur[1] == 40 && cur[2] == 40);
    vd_store_count(s, "acct:a", 6, 0, T0 + 3700 + 120, c); /* the minute moved on */
    CU_ASSERT(c[0] == 0 && c[1] == 40 && c[2] == 40);

    double est;
    vd_store_distinct(s, "ip:x", 4, "bob", 3, T0, 3600, &est);
    CU_ASSERT_EQUAL(vd_store_replace(s, VD_STORE_DISTINCT, "ip:x", 4, 25, T0, 3600, old, cur), 0);
    CU_ASSERT(old[0] == 1 && cur[0] == 25);
    vd_store_distinct(s, "ip:x", 4, "bob", 3, T0 + 1, 3600, &est);
    CU_ASSERT_EQUAL((int)(est + 0.5), 26);
    vd_store_distinct(s, "ip:x", 4, NULL, 0, T0 + 3600, 0, &est); /* the addition renewed it */
    CU_ASSERT_EQUAL((int)(est + 0.5), 26);
    CU_ASSERT_EQUAL(
        vd_store_replace(s, VD_STORE_DISTINCT, "ip:x", 4, VD_STORE_MAX_SEEDS + 1, T0, 0, old, cur),
        VD_EINVAL);

    CU_ASSERT_EQUAL(vd_store_replace(s, VD_STORE_LABEL, "l", 1, 0, T0, 0, old, cur), 0);
    CU_ASSERT(old[0] == -1 && cur[0] == -1); /* removing what is not there */
    CU_ASSERT_EQUAL(vd_store_replace(s, VD_STORE_LABEL, "l", 1, 600, T0, 0, old, cur), 0);
    CU_ASSERT(old[0] == -1 && cur[0] == 600);
    CU_ASSERT_EQUAL(vd_store_label_ttl(s, "l", 1, T0 + 100), 500);
    CU_ASSERT_EQUAL(vd_store_replace(s, VD_STORE_LABEL, "l", 1, 0, T0 + 100, 0, old, cur), 0);
    CU_ASSERT(old[0] == 500 && cur[0] == -1);
    CU_ASSERT_EQUAL(vd_store_label_ttl(s, "l", 1, T0 + 100), 0);
    vd_store_free(s);
}

static void test_clear_empties_everything(void) {
    vd_store_t *s = vd_store_new(1 << 20);
    uint64_t c[VD_WINDOWS];
    double est;
    char key[32];
    for (int i = 0; i < 500; i++) { /* enough for the shards' tables to grow */
        int n = snprintf(key, sizeof key, "k%d", i);
        vd_store_count(s, key, (size_t)n, 2, T0, c);
    }
    vd_store_distinct(s, "d", 1, "x", 1, T0, 0, &est);
    vd_store_label(s, "l", 1, T0, 60);
    vd_store_clear(s);
    vd_store_stats_t st;
    vd_store_stats(s, &st);
    CU_ASSERT_EQUAL(st.entries, 0);
    CU_ASSERT_EQUAL(st.bytes, 0);
    vd_store_count(s, "k7", 2, 0, T0, c);
    CU_ASSERT_EQUAL(c[2], 0);
    vd_store_distinct(s, "d", 1, NULL, 0, T0, 0, &est);
    CU_ASSERT_DOUBLE_EQUAL(est, 0, 1e-12);
    CU_ASSERT_EQUAL(vd_store_label_ttl(s, "l", 1, T0), 0);
    vd_store_count(s, "k7", 2, 1, T0, c); /* and it works as before */
    CU_ASSERT_EQUAL(c[0], 1);
    vd_store_free(s);
}

static void test_memory_cap_evicts_oldest(void) {
    vd_store_t *s = vd_store_new(64 * 4096); /* about 4 KiB per shard */
    uint64_t c[VD_WINDOWS];
    char key[32];
    for (int i = 0; i < 20000; i++) {
        int n = snprintf(key, sizeof key, "k%d", i);
        CU_ASSERT_EQUAL(vd_store_count(s, key, (size_t)n, 1, T0, c), 0);
    }
    vd_store_stats_t st;
    vd_store_stats(s, &st);
    CU_ASSERT(st.bytes <= 64 * 4096);
    CU_ASSERT(st.evictions > 10000);
    CU_ASSERT_EQUAL(st.evictions + st.entries, 20000); /* every key is either kept or evicted */
    CU_ASSERT_EQUAL(st.kinds[VD_STORE_COUNTER].evictions, st.evictions);
    CU_ASSERT_EQUAL(st.kinds[VD_STORE_COUNTER].entries, st.entries);
    CU_ASSERT_EQUAL(st.kinds[VD_STORE_LABEL].entries + st.kinds[VD_STORE_RECORD].entries, 0);
    vd_store_count(s, "k19999", 6, 0, T0, c); /* the newest survived */
    CU_ASSERT_EQUAL(c[0], 1);
    vd_store_free(s);
}

static void *hammer(void *arg) {
    uint64_t c[VD_WINDOWS];
    for (int i = 0; i < 50000; i++)
        vd_store_count(arg, "shared", 6, 1, T0, c);
    return NULL;
}

static void test_threads_count_exactly(void) {
    vd_store_t *s = vd_store_new(1 << 20);
    pthread_t t[4];
    for (int i = 0; i < 4; i++)
        pthread_create(&t[i], NULL, hammer, s);
    for (int i = 0; i < 4; i++)
        pthread_join(t[i], NULL);
    uint64_t c[VD_WINDOWS];
    vd_store_count(s, "shared", 6, 0, T0, c);
    CU_ASSERT_EQUAL(c[0], 200000);
    vd_store_free(s);
}

#define OLD 2000

/* Visits per key: "k<i>" existed before the walk, "n<i>" were made during it. */
typedef struct visits {
    int old[OLD], made;
} visits_t;

static int count_visit(void *ud, const vd_store_item_t *it) {
    visits_t *v = ud;
    char key[16];
    snprintf(key, sizeof key, "%.*s", (int)it->keylen, it->key);
    if (key[0] == 'n')
        v->made++;
    else
        v->old[atoi(key + 1)]++;
    return 0;
}

/* While a walk goes a few entries at a time, workers read (a second chance at eviction, which
 * moves entries behind the walk's place), make new entries and evict old ones. */
static void test_walk_visits_each_entry_once(void) {
    vd_store_t *s = vd_store_new(64 * 6144); /* room for about 40 counters per shard */
    uint64_t c[VD_WINDOWS];
    char key[16];
    for (int i = 0; i < OLD; i++)
        vd_store_count(s, key, (size_t)snprintf(key, sizeof key, "k%d", i), 1, T0, c);
    vd_store_walk_t *w, *other;
    CU_ASSERT_FATAL(vd_store_walk_new(s, T0, &w) == 0);
    CU_ASSERT_EQUAL(vd_store_walk_new(s, T0, &other), VD_EBUSY);
    visits_t v = {{0}, 0};
    int rc, made = 0;
    for (int step = 0; (rc = vd_store_walk_step(w, 5, count_visit, &v)) == 1; step++) {
        for (int i = 0; i < 3; i++) /* reads only: an old key is never made again */
            vd_store_count(s, key, (size_t)snprintf(key, sizeof key, "k%d", (step * 7 + i) % OLD),
                           0, T0, c);
        for (int i = 0; i < 4; i++)
            vd_store_count(s, key, (size_t)snprintf(key, sizeof key, "n%d", made++), 1, T0, c);
    }
    CU_ASSERT_EQUAL(rc, 0);
    vd_store_walk_free(w);
    vd_store_stats_t st;
    vd_store_stats(s, &st);
    CU_ASSERT_EQUAL(v.made, 0);
    int visited = 0;
    for (int i = 0; i < OLD; i++)
        visited += v.old[i];
    if (st.evictions < 1000 || visited < 300)
        fprintf(stderr, "\n  %llu evictions, %d visited\n", (unsigned long long)st.evictions,
                visited);
    CU_ASSERT(st.evictions > 1000); /* the walk went on through evictions */
    for (int i = 0; i < OLD; i++) {
        CU_ASSERT(v.old[i] <= 1);
        vd_store_count(s, key, (size_t)snprintf(key, sizeof key, "k%d", i), 0, T0, c);
        CU_ASSERT(v.old[i] == 1 || c[0] == 0); /* not visited: evicted before its turn */
    }
    CU_ASSERT(visited > 300);
    /* A walk given up halfway leaves nothing behind: the next one sees every entry. */
    CU_ASSERT_FATAL(vd_store_walk_new(s, T0, &w) == 0);
    memset(&v, 0, sizeof v);
    for (int i = 0; i < 20; i++)
        vd_store_walk_step(w, 5, count_visit, &v);
    vd_store_walk_free(w);
    CU_ASSERT_FATAL(vd_store_walk_new(s, T0, &w) == 0);
    memset(&v, 0, sizeof v);
    while (vd_store_walk_step(w, 1000, count_visit, &v) == 1)
        ;
    vd_store_walk_free(w);
    vd_store_stats(s, &st);
    int all = v.made;
    for (int i = 0; i < OLD; i++)
        all += v.old[i];
    CU_ASSERT_EQUAL((uint64_t)all, st.entries);
    vd_store_free(s);
}

/* Commands are written byte for byte as hiredis's redisFormatCommandArgv writes them, for any
 * number of arguments and lengths (empty, binary, past the stack buffer). */
static void test_redis_commands_as_hiredis_formats(void) {
    static char big[9000];
    memset(big, 'x', sizeof big);
    big[17] = '\0';
    big[18] = '\r';
    const char *argv[40];
    size_t lens[40];
    size_t sizes[] = {0, 1, 9, 10, 99, 100, 4000, sizeof big};
    for (int argc = 1; argc <= 40; argc += 13) {
        for (size_t k = 0; k < sizeof sizes / sizeof *sizes; k++) {
            for (int i = 0; i < argc; i++) {
                argv[i] = big;
                lens[i] = i % 2 ? sizes[k] : (size_t)i;
            }
            char *want = NULL;
            int wlen = redisFormatCommandArgv(&want, argc, argv, lens);
            char *got = malloc(vd_redis_format_size(argc, lens));
            size_t glen = vd_redis_format(got, argc, argv, lens);
            CU_ASSERT_EQUAL(glen, (size_t)wlen);
            CU_ASSERT(glen == (size_t)wlen && memcmp(got, want, glen) == 0);
            free(got);
            redisFreeCommand(want);
        }
    }
    char num[24];
    const int64_t values[] = {0, 9, 10, 99, 100, -1, 1234567890123LL, INT64_MIN, INT64_MAX};
    for (size_t i = 0; i < sizeof values / sizeof *values; i++) {
        char want[32];
        snprintf(want, sizeof want, "%lld", (long long)values[i]);
        size_t n = (size_t)(vd_redis_put_int(num, values[i]) - num);
        CU_ASSERT(n == strlen(want) && memcmp(num, want, n) == 0);
    }
}

void vd_suite_store(void) {
    static const vd_test_t tests[] = {
        {"sliding windows and expiry", test_windows},
        {"distinct counts within their error bound", test_distinct_error_bound},
        {"labels expire", test_labels},
        {"an operator replaces and resets entries", test_replace},
        {"clearing drops every entry", test_clear_empties_everything},
        {"the memory cap evicts the oldest", test_memory_cap_evicts_oldest},
        {"threads count exactly", test_threads_count_exactly},
        {"a walk visits each entry once", test_walk_visits_each_entry_once},
        {"Redis commands are written as hiredis writes them",
         test_redis_commands_as_hiredis_formats},
        {NULL, NULL}};
    vd_add_suite("store", tests);
}
