/* State snapshots: the embedded store written to a file and read back, with its windows and
 * expiry carried over, and every damaged file refused before anything is loaded. */
#include "base/error.h"
#include "serve/report_refs.h"
#include "state/campaign.h"
#include "state/profile.h"
#include "state/sketch.h"
#include "state/snapshot_read.h"
#include "state/snapshot_write.h"
#include "state/store.h"
#include "vd_test.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <xxhash.h>

#define T0 1767225600 /* some Unix time, a multiple of every bucket's width */

/* A temporary directory and the snapshot path inside it. */
typedef struct place {
    char dir[32];
    char path[64];
} place_t;

static void place_open(place_t *p) {
    const char *none[] = {NULL};
    CU_ASSERT_FATAL(vd_test_write_dir(none, p->dir) == 0);
    snprintf(p->path, sizeof p->path, "%s/state.snap", p->dir);
}

static uint8_t *slurp(const char *path, size_t *len) {
    FILE *f = fopen(path, "rb");
    CU_ASSERT_FATAL(f != NULL);
    fseek(f, 0, SEEK_END);
    *len = (size_t)ftell(f);
    fseek(f, 0, SEEK_SET);
    uint8_t *data = malloc(*len + 1);
    CU_ASSERT_FATAL(data && fread(data, 1, *len, f) == *len);
    fclose(f);
    return data;
}

static void spit(const char *path, const uint8_t *data, size_t len) {
    FILE *f = fopen(path, "wb");
    CU_ASSERT_FATAL(f != NULL);
    CU_ASSERT(fwrite(data, 1, len, f) == len);
    fclose(f);
}

static uint64_t entries(vd_store_t *s) {
    vd_store_stats_t st;
    vd_store_stats(s, &st);
    return st.entries;
}

static void counts(vd_store_t *s, const char *key, int64_t now, uint64_t c[VD_WINDOWS]) {
    vd_store_count(s, key, strlen(key), 0, now, c);
}

static double distinct(vd_store_t *s, const char *key, int64_t now) {
    double est;
    vd_store_distinct(s, key, strlen(key), NULL, 0, now, 0, &est);
    return est;
}

/* Counters at several times, a small and a large distinct count, labels. */
static vd_store_t *sample_store(void) {
    vd_store_t *s = vd_store_new(64 << 20);
    uint64_t c[VD_WINDOWS];
    double est;
    char v[32];
    for (int i = 0; i < 5; i++)
        vd_store_count(s, "login:fail:acct:alice", 21, 1, T0, c);
    vd_store_count(s, "login:fail:acct:alice", 21, 3, T0 + 50, c);
    vd_store_count(s, "signup:net:198.51.100.0/24", 26, 40, T0 - 3000, c);
    vd_store_count(s, "", 0, 1, T0, c); /* an empty key is a key */
    vd_store_distinct(s, "few", 3, "a", 1, T0, 3600, &est);
    vd_store_distinct(s, "few", 3, "b", 1, T0, 3600, &est);
    for (int i = 0; i < 5000; i++)
        vd_store_distinct(s, "many", 4, v, (size_t)snprintf(v, sizeof v, "v%d", i), T0, 0, &est);
    vd_store_label(s, "login:attack:alice", 18, T0, 3600);
    vd_store_label(s, "seen:bob:DE", 11, T0, 90 * 86400);
    vd_profile_attr_t de = {"country", "DE", 7, 2};
    vd_profile_opts_t o = {0};
    vd_profile_answer_t ans;
    for (int i = 0; i < 2; i++) /* a behaviour profile: a record of the store */
        vd_profile_observe(s, "acct:alice", 10, T0 + i, &de, 1, &o, &ans);
    return s;
}

static void test_round_trip(void) {
    place_t p;
    place_open(&p);
    vd_store_t *a = sample_store(), *b = vd_store_new(64 << 20);
    vd_state_snapshot_info_t w, r;
    char err[512] = "";
    CU_ASSERT_EQUAL(vd_state_snapshot_write(a, NULL, p.path, T0 + 60, &w, err, sizeof err), 0);
    CU_ASSERT_EQUAL(w.entries, 8);
    CU_ASSERT(w.bytes > VD_SNAPSHOT_HEADER && w.elapsed_ns > 0 && w.written_at == T0 + 60);
    CU_ASSERT_EQUAL(vd_state_snapshot_read(b, NULL, p.path, T0 + 60, &r, err, sizeof err), 0);
    CU_ASSERT_EQUAL(r.entries, 8);
    CU_ASSERT_EQUAL(r.expired, 0);
    CU_ASSERT_EQUAL(r.bytes, w.bytes);
    CU_ASSERT_EQUAL(r.written_at, T0 + 60);
    CU_ASSERT_EQUAL(entries(b), 8);
    vd_profile_attr_t de = {"country", "DE", 7, 2};
    vd_profile_opts_t ro = {.read_only = 1};
    vd_profile_answer_t ans;
    CU_ASSERT_EQUAL(vd_profile_observe(b, "acct:alice", 10, T0 + 60, &de, 1, &ro, &ans), 0);
    CU_ASSERT_EQUAL(ans.events, 2); /* the profile came back */
    CU_ASSERT_TRUE(ans.seen[0].known);
    /* Whatever time it is read at, the copy answers as the original would. */
    const int64_t later[] = {T0 + 60, T0 + 65, T0 + 700, T0 + 3700, T0 + 90000};
    const char *keys[] = {"login:fail:acct:alice", "signup:net:198.51.100.0/24", ""};
    for (size_t t = 0; t < sizeof later / sizeof *later; t++) {
        for (size_t k = 0; k < 3; k++) {
            uint64_t ca[VD_WINDOWS], cb[VD_WINDOWS];
            counts(a, keys[k], later[t], ca);
            counts(b, keys[k], later[t], cb);
            CU_ASSERT(memcmp(ca, cb, sizeof ca) == 0);
        }
        CU_ASSERT_EQUAL(vd_store_label_ttl(a, "login:attack:alice", 18, later[t]),
                        vd_store_label_ttl(b, "login:attack:alice", 18, later[t]));
    }
    CU_ASSERT_DOUBLE_EQUAL(distinct(b, "few", T0 + 60), distinct(a, "few", T0 + 60), 0);
    CU_ASSERT_DOUBLE_EQUAL(distinct(b, "many", T0 + 60), distinct(a, "many", T0 + 60), 0);
    CU_ASSERT(distinct(b, "many", T0 + 60) > 4000);
    struct stat st;
    CU_ASSERT(stat(p.path, &st) == 0 && (st.st_mode & 0777) == 0600); /* keys name people */
    char tmp[80];
    snprintf(tmp, sizeof tmp, "%s.tmp", p.path);
    CU_ASSERT(access(tmp, F_OK) != 0);
    vd_store_free(a);
    vd_store_free(b);
    vd_test_remove_dir(p.dir);
}

/* The counter's minute window: 5 at T0 and 3 at T0 + 50. Read at T0 + 65 (the daemon was down
 * for 15 s), the bucket of T0 has left the minute and the others have not. */
static void test_windows_slide_across_the_gap(void) {
    place_t p;
    place_open(&p);
    vd_store_t *a = sample_store(), *b = vd_store_new(64 << 20);
    vd_state_snapshot_info_t info;
    char err[512];
    CU_ASSERT_EQUAL(vd_state_snapshot_write(a, NULL, p.path, T0 + 50, &info, err, sizeof err), 0);
    CU_ASSERT_EQUAL(vd_state_snapshot_read(b, NULL, p.path, T0 + 65, &info, err, sizeof err), 0);
    uint64_t c[VD_WINDOWS];
    counts(b, "login:fail:acct:alice", T0 + 65, c);
    CU_ASSERT_EQUAL(c[0], 3);
    CU_ASSERT_EQUAL(c[1], 8);
    vd_store_count(b, "login:fail:acct:alice", 21, 1, T0 + 66, c); /* and it keeps counting */
    CU_ASSERT_EQUAL(c[0], 4);
    CU_ASSERT_EQUAL(c[2], 9);
    vd_store_free(a);
    vd_store_free(b);
    vd_test_remove_dir(p.dir);
}

static void test_expired_entries_are_not_loaded(void) {
    place_t p;
    place_open(&p);
    vd_store_t *a = sample_store();
    vd_state_snapshot_info_t info;
    char err[512];
    CU_ASSERT_EQUAL(vd_state_snapshot_write(a, NULL, p.path, T0 + 1, &info, err, sizeof err), 0);
    /* Two hours later: the attack label (one hour) and "few" (an hour after its last value)
     * have expired while the daemon was down. */
    vd_store_t *b = vd_store_new(64 << 20);
    CU_ASSERT_EQUAL(vd_state_snapshot_read(b, NULL, p.path, T0 + 7200, &info, err, sizeof err), 0);
    CU_ASSERT_EQUAL(info.entries, 6); /* the profile too: it never expires, it decays */
    CU_ASSERT_EQUAL(info.expired, 2);
    CU_ASSERT_EQUAL(vd_store_label_ttl(b, "login:attack:alice", 18, T0 + 7200), 0);
    CU_ASSERT_EQUAL(vd_store_label_ttl(b, "seen:bob:DE", 11, T0 + 7200), 90 * 86400 - 7200);
    CU_ASSERT_DOUBLE_EQUAL(distinct(b, "few", T0 + 7200), 0, 0);
    vd_store_free(b);
    /* Past a day and four hours without additions a counter holds nothing: dropped too. */
    b = vd_store_new(64 << 20);
    CU_ASSERT_EQUAL(vd_state_snapshot_read(b, NULL, p.path, T0 + 29 * 3600, &info, err, sizeof err),
                    0);
    CU_ASSERT_EQUAL(info.entries, 3); /* "many" (no expiry), the 90-day label, the profile */
    CU_ASSERT_EQUAL(info.expired, 5);
    vd_store_free(b);
    vd_store_free(a);
    vd_test_remove_dir(p.dir);
}

/* Reads path into a fresh store; asserts it is refused with VD_EPROTO, err holding each
 * needle and the file's name, and that nothing was loaded. */
static void expect_refused(const char *path, const char *needle, const char *needle2) {
    vd_store_t *s = vd_store_new(1 << 20);
    vd_state_snapshot_info_t info;
    char err[512] = "";
    int rc = vd_state_snapshot_read(s, NULL, path, T0, &info, err, sizeof err);
    if (rc != VD_EPROTO || !strstr(err, needle) || (needle2 && !strstr(err, needle2)) ||
        !strstr(err, path))
        fprintf(stderr, "\n  rc %d: %s\n", rc, err);
    CU_ASSERT_EQUAL(rc, VD_EPROTO);
    CU_ASSERT(strstr(err, needle) != NULL);
    CU_ASSERT(!needle2 || strstr(err, needle2) != NULL);
    CU_ASSERT(strstr(err, path) != NULL);
    CU_ASSERT_EQUAL(entries(s), 0);
    vd_store_free(s);
}

static void test_truncated_file_is_refused(void) {
    place_t p;
    place_open(&p);
    vd_store_t *a = sample_store();
    vd_state_snapshot_info_t info;
    char err[512];
    CU_ASSERT_EQUAL(vd_state_snapshot_write(a, NULL, p.path, T0, &info, err, sizeof err), 0);
    size_t len;
    uint8_t *whole = slurp(p.path, &len);
    const size_t cuts[] = {0,
                           4,
                           11,
                           30,
                           VD_SNAPSHOT_HEADER,
                           VD_SNAPSHOT_HEADER + 10,
                           len / 2,
                           len - VD_SNAPSHOT_TRAILER,
                           len - 9,
                           len - 1};
    for (size_t i = 0; i < sizeof cuts / sizeof *cuts; i++) {
        spit(p.path, whole, cuts[i]);
        expect_refused(p.path, "truncated", NULL);
    }
    free(whole);
    vd_store_free(a);
    vd_test_remove_dir(p.dir);
}

static void test_corrupt_file_is_refused(void) {
    place_t p;
    place_open(&p);
    vd_store_t *a = sample_store();
    vd_state_snapshot_info_t info;
    char err[512];
    CU_ASSERT_EQUAL(vd_state_snapshot_write(a, NULL, p.path, T0, &info, err, sizeof err), 0);
    size_t len;
    uint8_t *data = slurp(p.path, &len);
    data[len / 2] ^= 0x10; /* one bit in the middle of the records */
    spit(p.path, data, len);
    expect_refused(p.path, "corrupt", "checksum");
    data[len / 2] ^= 0x10;
    data[len - 1] ^= 0x01; /* the checksum itself */
    spit(p.path, data, len);
    expect_refused(p.path, "corrupt", "checksum");
    data[len - 1] ^= 0x01;
    uint8_t *longer = malloc(len + 3);
    memcpy(longer, data, len);
    memcpy(longer + len, "abc", 3); /* bytes after the end */
    spit(p.path, longer, len + 3);
    expect_refused(p.path, "corrupt", NULL);
    spit(p.path, (const uint8_t *)"counter,ip,42\n", 14);
    expect_refused(p.path, "not a Verdict state snapshot", NULL);
    free(longer);
    free(data);
    vd_store_free(a);
    vd_test_remove_dir(p.dir);
}

/* Rewrites the checksum after a change, as a file made by another build would have it. */
static void reseal(uint8_t *data, size_t len) {
    vd_le_put(data + len - 8, XXH3_64bits(data, len - 8), 8);
}

static void test_other_version_or_layout_is_refused(void) {
    place_t p;
    place_open(&p);
    vd_store_t *a = sample_store();
    vd_state_snapshot_info_t info;
    char err[512];
    CU_ASSERT_EQUAL(vd_state_snapshot_write(a, NULL, p.path, T0, &info, err, sizeof err), 0);
    size_t len;
    uint8_t *data = slurp(p.path, &len);
    vd_le_put(data + VD_SNAPSHOT_VERSION_AT, VD_SNAPSHOT_VERSION + 1, 4);
    reseal(data, len);
    spit(p.path, data, len);
    expect_refused(p.path, "format version 4", "reads version 3");
    vd_le_put(data + VD_SNAPSHOT_VERSION_AT, 1, 4); /* version 1 (before records): read */
    reseal(data, len);
    spit(p.path, data, len);
    vd_store_t *b = vd_store_new(1 << 20);
    CU_ASSERT_EQUAL(vd_state_snapshot_read(b, NULL, p.path, T0, &info, err, sizeof err), 0);
    CU_ASSERT(info.entries > 0);
    vd_store_free(b);
    vd_le_put(data + VD_SNAPSHOT_VERSION_AT, VD_SNAPSHOT_VERSION, 4);
    data[13] = 12; /* buckets per window */
    reseal(data, len);
    spit(p.path, data, len);
    expect_refused(p.path, "3 windows of 12 buckets", NULL);
    free(data);
    vd_store_free(a);
    vd_test_remove_dir(p.dir);
}

/* Records that pass the checksum but not the parser: the checks do not rest on the checksum
 * alone. */
static void test_bad_records_are_refused(void) {
    place_t p;
    place_open(&p);
    vd_store_t *a = vd_store_new(1 << 20);
    vd_store_label(a, "k", 1, T0, 100);
    vd_state_snapshot_info_t info;
    char err[512];
    CU_ASSERT_EQUAL(vd_state_snapshot_write(a, NULL, p.path, T0, &info, err, sizeof err), 0);
    size_t len;
    uint8_t *data = slurp(p.path, &len);
    data[VD_SNAPSHOT_HEADER] = 9; /* the kind */
    reseal(data, len);
    spit(p.path, data, len);
    expect_refused(p.path, "record 1 at byte", "unknown kind 9");
    data[VD_SNAPSHOT_HEADER] = VD_SNAPSHOT_LABEL;
    vd_le_put(data + VD_SNAPSHOT_HEADER + 1, 200, 4); /* a key longer than the file */
    reseal(data, len);
    spit(p.path, data, len);
    expect_refused(p.path, "past the end", NULL);
    vd_le_put(data + VD_SNAPSHOT_HEADER + 1, 1, 4);
    vd_le_put(data + len - 16, 5, 8); /* the trailer's count */
    reseal(data, len);
    spit(p.path, data, len);
    expect_refused(p.path, "counts 5 records, the file holds 1", NULL);
    free(data);
    vd_store_free(a);
    vd_test_remove_dir(p.dir);
}

static void test_missing_or_unreadable(void) {
    place_t p;
    place_open(&p);
    vd_store_t *s = vd_store_new(1 << 20);
    vd_state_snapshot_info_t info;
    char err[512];
    CU_ASSERT_EQUAL(vd_state_snapshot_read(s, NULL, p.path, T0, &info, err, sizeof err),
                    VD_ENOTFOUND);
    CU_ASSERT_EQUAL(vd_state_snapshot_read(s, NULL, p.dir, T0, &info, err, sizeof err), VD_EIO);
    CU_ASSERT(strstr(err, p.dir) && strstr(err, "not a regular file"));
    vd_store_free(s);
    vd_test_remove_dir(p.dir);
}

static void test_failed_write_leaves_the_last_snapshot(void) {
    place_t p;
    place_open(&p);
    vd_store_t *a = sample_store();
    vd_state_snapshot_info_t info;
    char err[512] = "", missing[96];
    snprintf(missing, sizeof missing, "%s/no/such/dir/state.snap", p.dir);
    CU_ASSERT_EQUAL(vd_state_snapshot_write(a, NULL, missing, T0, &info, err, sizeof err), VD_EIO);
    CU_ASSERT(strstr(err, "state.snap.tmp: cannot create: No such file or directory") != NULL);
    /* A rename that cannot happen (the path is a directory): the temporary file goes. */
    char tmp[80];
    snprintf(tmp, sizeof tmp, "%s.tmp", p.path);
    CU_ASSERT(mkdir(p.path, 0700) == 0);
    CU_ASSERT_EQUAL(vd_state_snapshot_write(a, NULL, p.path, T0, &info, err, sizeof err), VD_EIO);
    CU_ASSERT(strstr(err, "rename into place") != NULL);
    CU_ASSERT(access(tmp, F_OK) != 0);
    CU_ASSERT(rmdir(p.path) == 0);
    vd_store_free(a);
    vd_test_remove_dir(p.dir);
}

/* Registers restored as they were, on both sides of the sparse/dense boundary. */
static void test_distinct_encodings(void) {
    place_t p;
    place_open(&p);
    vd_store_t *a = vd_store_new(8 << 20), *b = vd_store_new(8 << 20);
    const int set[] = {0, 1, 341, 342, VD_STORE_HLL_REGS};
    uint8_t regs[VD_STORE_HLL_REGS];
    char key[16];
    for (size_t k = 0; k < sizeof set / sizeof *set; k++) {
        memset(regs, 0, sizeof regs);
        for (int i = 0; i < set[k]; i++)
            regs[(i * 7) % VD_STORE_HLL_REGS] = (uint8_t)(1 + i % VD_STORE_HLL_RANK);
        vd_store_item_t it = {.kind = VD_STORE_DISTINCT, .key = key, .regs = regs};
        it.keylen = (size_t)snprintf(key, sizeof key, "d%d", set[k]);
        CU_ASSERT_EQUAL(vd_store_restore(a, &it), 0);
    }
    vd_state_snapshot_info_t info;
    char err[512];
    CU_ASSERT_EQUAL(vd_state_snapshot_write(a, NULL, p.path, T0, &info, err, sizeof err), 0);
    CU_ASSERT_EQUAL(vd_state_snapshot_read(b, NULL, p.path, T0, &info, err, sizeof err), 0);
    for (size_t k = 0; k < sizeof set / sizeof *set; k++) {
        snprintf(key, sizeof key, "d%d", set[k]);
        CU_ASSERT_DOUBLE_EQUAL(distinct(a, key, T0), distinct(b, key, T0), 0);
    }
    uint8_t bad[VD_STORE_HLL_REGS] = {[3] = VD_STORE_HLL_RANK + 1};
    vd_store_item_t it = {.kind = VD_STORE_DISTINCT, .key = "x", .keylen = 1, .regs = bad};
    CU_ASSERT_EQUAL(vd_store_restore(a, &it), VD_EINVAL);
    vd_store_free(a);
    vd_store_free(b);
    vd_test_remove_dir(p.dir);
}

/* A smaller --state-memory-mb after a restart keeps the most recently used entries. */
static void test_load_under_a_smaller_cap(void) {
    place_t p;
    place_open(&p);
    vd_store_t *a = vd_store_new(64 << 20), *b = vd_store_new(64 * 4096);
    uint64_t c[VD_WINDOWS];
    char key[32];
    for (int i = 0; i < 20000; i++)
        vd_store_count(a, key, (size_t)snprintf(key, sizeof key, "k%d", i), 1, T0, c);
    vd_state_snapshot_info_t info;
    char err[512];
    CU_ASSERT_EQUAL(vd_state_snapshot_write(a, NULL, p.path, T0, &info, err, sizeof err), 0);
    CU_ASSERT_EQUAL(vd_state_snapshot_read(b, NULL, p.path, T0, &info, err, sizeof err), 0);
    vd_store_stats_t st;
    vd_store_stats(b, &st);
    CU_ASSERT(st.evictions > 10000 && st.bytes <= 64 * 4096);
    counts(b, "k19999", T0, c);
    CU_ASSERT_EQUAL(c[0], 1);
    vd_store_free(a);
    vd_store_free(b);
    vd_test_remove_dir(p.dir);
}

typedef struct hammer_arg {
    vd_store_t *s;
    int stop;
} hammer_arg_t;

static void *hammer(void *arg) {
    hammer_arg_t *h = arg;
    uint64_t c[VD_WINDOWS];
    char key[16];
    for (unsigned i = 0; !__atomic_load_n(&h->stop, __ATOMIC_RELAXED); i++)
        vd_store_count(h->s, key, (size_t)snprintf(key, sizeof key, "k%u", i % 5000), 1, T0, c);
    return NULL;
}

/* Snapshots taken while threads count: each is whole, and the last equals the store. */
static void test_write_while_counting(void) {
    place_t p;
    place_open(&p);
    hammer_arg_t h = {.s = vd_store_new(64 << 20)};
    pthread_t t[2];
    for (int i = 0; i < 2; i++)
        pthread_create(&t[i], NULL, hammer, &h);
    vd_state_snapshot_info_t info;
    char err[512];
    for (int i = 0; i < 5; i++) {
        vd_store_t *b = vd_store_new(64 << 20);
        CU_ASSERT_EQUAL(vd_state_snapshot_write(h.s, NULL, p.path, T0, &info, err, sizeof err), 0);
        CU_ASSERT_EQUAL(vd_state_snapshot_read(b, NULL, p.path, T0, &info, err, sizeof err), 0);
        vd_store_free(b);
    }
    __atomic_store_n(&h.stop, 1, __ATOMIC_RELAXED);
    for (int i = 0; i < 2; i++)
        pthread_join(t[i], NULL);
    vd_store_t *b = vd_store_new(64 << 20);
    CU_ASSERT_EQUAL(vd_state_snapshot_write(h.s, NULL, p.path, T0, &info, err, sizeof err), 0);
    CU_ASSERT_EQUAL(vd_state_snapshot_read(b, NULL, p.path, T0, &info, err, sizeof err), 0);
    CU_ASSERT_EQUAL(entries(b), entries(h.s));
    uint64_t ca[VD_WINDOWS], cb[VD_WINDOWS];
    counts(h.s, "k1234", T0, ca);
    counts(b, "k1234", T0, cb);
    CU_ASSERT(ca[0] > 0 && memcmp(ca, cb, sizeof ca) == 0);
    vd_store_free(b);
    vd_store_free(h.s);
    vd_test_remove_dir(p.dir);
}

/* Campaigns come back with their counts, reports and bands (a near copy finds its campaign),
 * the expired ones left out; a damaged campaign refuses the file. */
static void test_campaigns_come_back(void) {
    static const char *const texts[] = {
        "Dear Ana, your parcel 1007 is held at the depot: pay the customs fee of 3 euros within "
        "two days or it goes back to the sender. Kind regards, the delivery team.",
        "Dear Ben, your parcel 1014 is held at the depot: pay the customs fee of 4 euros within "
        "two days or it goes back to the sender. Kind regards, the delivery team.",
        "Dear Cem, your parcel 1021 is held at the depot: pay the customs fee of 5 euros within "
        "two days or it goes back to the sender. Kind regards, the delivery team."};
    place_t p;
    place_open(&p);
    vd_store_t *s = vd_store_new(1 << 20);
    vd_campaigns_t *a = vd_campaigns_new(1 << 20);
    vd_sketch_t sk[3];
    vd_campaign_view_t v, fv, gone;
    for (int i = 0; i < 3; i++)
        CU_ASSERT_FATAL(vd_sketch_text(texts[i], strlen(texts[i]), &sk[i]) == 0);
    vd_campaign_opts_t o = {.source = "x@a.example", .source_len = 11};
    CU_ASSERT_EQUAL(vd_campaign_text(a, &sk[0], &o, T0, &v), 0);
    CU_ASSERT_EQUAL(vd_campaign_text(a, &sk[1], &o, T0 + 10, &v), 0);
    CU_ASSERT_EQUAL(vd_campaign_report(a, VD_CAMPAIGN_TEXT, v.id, 1, 2.5, "ann", 3, T0 + 20, &v),
                    0);
    vd_campaign_opts_t short_lived = {.window = 60, .ttl = 60};
    CU_ASSERT_EQUAL(vd_campaign_fields(a, 42, &(vd_campaign_opts_t){0}, T0, &fv), 0);
    CU_ASSERT_EQUAL(vd_campaign_fields(a, 43, &short_lived, T0, &gone), 0);
    vd_state_snapshot_info_t info;
    char err[512];
    CU_ASSERT_EQUAL(vd_state_snapshot_write(s, a, p.path, T0 + 30, &info, err, sizeof err), 0);
    CU_ASSERT_EQUAL(info.entries, 3);
    /* Read back two minutes later: the short-lived group has expired. */
    vd_store_t *s2 = vd_store_new(1 << 20);
    vd_campaigns_t *b = vd_campaigns_new(1 << 20);
    CU_ASSERT_EQUAL(vd_state_snapshot_read(s2, b, p.path, T0 + 120, &info, err, sizeof err), 0);
    CU_ASSERT_EQUAL(info.entries, 2);
    CU_ASSERT_EQUAL(info.expired, 1);
    vd_campaign_view_t w;
    CU_ASSERT_EQUAL(vd_campaign_text(b, &sk[2], &o, T0 + 130, &w), 0);
    CU_ASSERT_EQUAL(w.id, v.id);
    CU_ASSERT_EQUAL(w.size, 3);
    CU_ASSERT_EQUAL(w.first_seen, T0);
    CU_ASSERT_DOUBLE_EQUAL(w.bad, 2.5, 1e-9);
    CU_ASSERT_EQUAL(w.reporters, 1);
    CU_ASSERT_EQUAL(w.sources, 1);
    vd_campaign_opts_t look = {.look_only = 1};
    CU_ASSERT_EQUAL(vd_campaign_fields(b, 42, &look, T0 + 130, &w), 0);
    CU_ASSERT_EQUAL(w.id, fv.id);
    CU_ASSERT_EQUAL(
        vd_campaign_fields(b, 43, &(vd_campaign_opts_t){.window = 60, .ttl = 60, .look_only = 1},
                           T0 + 130, &w),
        VD_ENOTFOUND);
    vd_campaign_stats_t st[VD_CAMPAIGN_KINDS];
    vd_campaigns_stats(b, st);
    CU_ASSERT_EQUAL(st[VD_CAMPAIGN_TEXT].entries, 1);
    CU_ASSERT_EQUAL(st[VD_CAMPAIGN_FIELDS].entries, 1);
    /* Without an index to load them into, campaigns are checked and left out. */
    vd_store_t *s3 = vd_store_new(1 << 20);
    CU_ASSERT_EQUAL(vd_state_snapshot_read(s3, NULL, p.path, T0 + 120, &info, err, sizeof err), 0);
    CU_ASSERT_EQUAL(info.entries, 0);
    /* A campaign whose window is out of range (checksum made good again) refuses the file. */
    size_t len;
    uint8_t *data = slurp(p.path, &len);
    size_t at = VD_SNAPSHOT_HEADER + VD_SNAPSHOT_RECORD_HEAD + 4; /* the first campaign */
    CU_ASSERT_EQUAL_FATAL(data[VD_SNAPSHOT_HEADER], VD_SNAPSHOT_CAMPAIGN);
    memset(data + at + 8 + 4 * 8 + 24, 0xff, 8); /* its window */
    reseal(data, len);
    spit(p.path, data, len);
    expect_refused(p.path, "a campaign out of range, or corrupt", NULL);
    /* One of another build's layout is left out, not the whole file. */
    data[at] ^= 1;                               /* the low byte of its format: another size */
    memcpy(data + at + 64, &(int64_t){3600}, 8); /* the window made good again */
    reseal(data, len);
    spit(p.path, data, len);
    vd_store_t *s4 = vd_store_new(1 << 20);
    vd_campaigns_t *b4 = vd_campaigns_new(1 << 20);
    CU_ASSERT_EQUAL(vd_state_snapshot_read(s4, b4, p.path, T0 + 120, &info, err, sizeof err), 0);
    CU_ASSERT_EQUAL(info.skipped, 1);
    CU_ASSERT_EQUAL(info.entries, 1);
    vd_campaigns_free(b4);
    vd_store_free(s4);
    free(data);
    vd_store_free(s3);
    vd_campaigns_free(b);
    vd_store_free(s2);
    vd_campaigns_free(a);
    vd_store_free(s);
    vd_test_remove_dir(p.dir);
}

/* A decision's campaigns (for reports) damaged on disk are no campaigns: the record with a
 * kind out of range is read as nothing, not handed to the report (where it indexed names). */
static void test_damaged_report_refs_read_as_none(void) {
    place_t p;
    place_open(&p);
    vd_store_t *a = vd_store_new(1 << 20);
    vd_campaign_ref_t refs[VD_DECISION_CAMPAIGNS] = {{0x1234, VD_CAMPAIGN_TEXT}};
    CU_ASSERT_EQUAL(vd_report_refs_keep(a, "D1", 2, "mail", refs, 1), 0);
    CU_ASSERT_EQUAL(vd_report_refs_find(a, "D1", 2, "mail", 4, refs), 1);
    CU_ASSERT_EQUAL(vd_report_refs_find(a, "D1", 2, "signup", 6, refs), -2);
    vd_state_snapshot_info_t info;
    char err[512];
    CU_ASSERT_EQUAL(vd_state_snapshot_write(a, NULL, p.path, T0, &info, err, sizeof err), 0);
    size_t len;
    uint8_t *data = slurp(p.path, &len);
    /* the record: head, key "\x03report:D1" (10 bytes), payload length, then the payload:
     * the pipeline's hash (8), the ids (8 x 8), then the kinds */
    size_t kinds = VD_SNAPSHOT_HEADER + VD_SNAPSHOT_RECORD_HEAD + 10 + 4 + 8 + 8 * 8;
    CU_ASSERT_EQUAL_FATAL(data[kinds], VD_CAMPAIGN_TEXT);
    data[kinds] = 200;
    reseal(data, len);
    spit(p.path, data, len);
    vd_store_t *b = vd_store_new(1 << 20);
    CU_ASSERT_EQUAL(vd_state_snapshot_read(b, NULL, p.path, T0, &info, err, sizeof err), 0);
    CU_ASSERT_EQUAL(vd_report_refs_find(b, "D1", 2, "mail", 4, refs), -1);
    free(data);
    vd_store_free(b);
    vd_store_free(a);
    vd_test_remove_dir(p.dir);
}

void vd_suite_snapshot(void) {
    static const vd_test_t tests[] = {
        {"round trip", test_round_trip},
        {"windows slide across the time the daemon was down", test_windows_slide_across_the_gap},
        {"entries that expired meanwhile are not loaded", test_expired_entries_are_not_loaded},
        {"a truncated file is refused", test_truncated_file_is_refused},
        {"a corrupt file is refused", test_corrupt_file_is_refused},
        {"another version or layout is refused", test_other_version_or_layout_is_refused},
        {"bad records are refused", test_bad_records_are_refused},
        {"missing and unreadable files", test_missing_or_unreadable},
        {"a failed write leaves the last snapshot", test_failed_write_leaves_the_last_snapshot},
        {"distinct counts, sparse and dense", test_distinct_encodings},
        {"loading under a smaller memory cap", test_load_under_a_smaller_cap},
        {"writing while workers count", test_write_while_counting},
        {"campaigns come back", test_campaigns_come_back},
        {"damaged report references read as none", test_damaged_report_refs_read_as_none},
        {NULL, NULL}};
    vd_add_suite("snapshot", tests);
}
