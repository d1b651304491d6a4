/* The decision log's parts: ids, the JSON writer, the workers' rings and the file sink
 * (rotation, kept files, torn tails). The writer thread is tested end to end
 * (tests/e2e/test_decision_log.py). */
#include "base/ulid.h"
#include "dlog/ring.h"
#include "dlog/sink.h"
#include "proto/json_buf.h"
#include "proto/json_read.h"
#include "proto/json_write.h"
#include "proto/mpbuf.h"
#include "vd_test.h"

#include <dirent.h>
#include <fcntl.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static void test_ulid(void) {
    vd_ulid_gen_t g;
    vd_ulid_init(&g);
    char a[VD_ULID_LEN + 1], b[VD_ULID_LEN + 1], c[VD_ULID_LEN + 1];
    vd_ulid_next(&g, 1764480000000, a);
    vd_ulid_next(&g, 1764480000000, b);
    vd_ulid_next(&g, 1764480000001, c);
    CU_ASSERT_EQUAL(strlen(a), VD_ULID_LEN);
    CU_ASSERT(vd_ulid_valid(a, strlen(a)));
    CU_ASSERT(strcmp(a, b) != 0);
    CU_ASSERT(strncmp(a, c, 10) < 0); /* the first ten characters are the time */
    CU_ASSERT_EQUAL(memcmp(a, b, 10), 0);
    vd_ulid_next(&g, 0, a);
    CU_ASSERT_EQUAL(memcmp(a, "0000000000", 10), 0);
    CU_ASSERT(!vd_ulid_valid("0123456789ABCDEFGHJKMNPQRU", 26)); /* U is not Crockford's */
    CU_ASSERT(!vd_ulid_valid("81234567890123456789012345", 26)); /* past 48 bits of time */
}

static void json_of(const char *packed, size_t n, char *out, size_t cap) {
    msgpack_sbuffer sb;
    msgpack_sbuffer_init(&sb);
    CU_ASSERT_EQUAL(vd_mp_to_json(&sb, packed, n), n);
    snprintf(out, cap, "%.*s", (int)sb.size, sb.data);
    msgpack_sbuffer_destroy(&sb);
}

static void test_json_write(void) {
    msgpack_sbuffer sb;
    msgpack_sbuffer_init(&sb);
    vd_mp_map(&sb, 9);
    VD_MP_LIT(&sb, "s");
    vd_mp_str_valid(&sb, "a\"b\\c\n\x01\xc3\xa9", 9);
    VD_MP_LIT(&sb, "bad");
    vd_mp_str_valid(&sb, "x\xff", 2); /* invalid UTF-8, written unchecked on purpose */
    VD_MP_LIT(&sb, "n");
    vd_mp_array(&sb, 5);
    vd_mp_int(&sb, -5);
    vd_mp_int(&sb, 18446744073709551615ull > 0 ? 4000000000LL : 0);
    vd_mp_double(&sb, 0.1);
    vd_mp_double(&sb, 3.0);
    vd_mp_double(&sb, 0.0 / 0.0);
    VD_MP_LIT(&sb, "b");
    vd_mp_bool(&sb, 1);
    VD_MP_LIT(&sb, "z");
    vd_mp_nil(&sb);
    vd_mp_int(&sb, 7); /* a key that is not a string */
    vd_mp_bool(&sb, 0);
    VD_MP_LIT(&sb, "m");
    vd_mp_map(&sb, 0);
    vd_mp_bool(&sb, 0); /* the worst growth: false: false */
    vd_mp_bool(&sb, 0);
    vd_mp_array(&sb, 0); /* a container as a key */
    vd_mp_int(&sb, -70000);
    char out[256];
    json_of(sb.data, sb.size, out, sizeof out);
    CU_ASSERT_STRING_EQUAL(out,
                           "{\"s\":\"a\\\"b\\\\c\\n\\u0001\xc3\xa9\",\"bad\":\"x\xef\xbf\xbd\","
                           "\"n\":[-5,4000000000,0.1,3.0,null],\"b\":true,\"z\":null,"
                           "\"7\":false,\"m\":{},\"false\":false,\"[]\":-70000}");
    /* Cut short, or not msgpack: nothing is written. */
    msgpack_sbuffer none;
    msgpack_sbuffer_init(&none);
    CU_ASSERT_EQUAL(vd_mp_to_json(&none, sb.data, sb.size - 1), 0);
    CU_ASSERT_EQUAL(vd_mp_to_json(&none, "\xc1", 1), 0);
    CU_ASSERT_EQUAL(none.size, 0);
    msgpack_sbuffer_destroy(&none);
    msgpack_sbuffer_destroy(&sb);
}

/* JSON text to msgpack and back: what the replay reads is what the log wrote. */
static void roundtrip(const char *json, const char *expect) {
    msgpack_sbuffer mp, out;
    msgpack_sbuffer_init(&mp);
    msgpack_sbuffer_init(&out);
    size_t at = 0;
    const char *why = NULL;
    CU_ASSERT_EQUAL_FATAL(vd_json_to_mp(&mp, json, strlen(json), &at, &why), 0);
    CU_ASSERT_EQUAL(vd_mp_to_json(&out, mp.data, mp.size), mp.size);
    CU_ASSERT_EQUAL(out.size, strlen(expect));
    CU_ASSERT_EQUAL(memcmp(out.data, expect, out.size), 0);
    msgpack_sbuffer_destroy(&mp);
    msgpack_sbuffer_destroy(&out);
}

static void bad_json(const char *json, size_t where, const char *why_part) {
    msgpack_sbuffer mp;
    msgpack_sbuffer_init(&mp);
    size_t at = 0;
    const char *why = NULL;
    CU_ASSERT_EQUAL(vd_json_to_mp(&mp, json, strlen(json), &at, &why), -1);
    CU_ASSERT_EQUAL(at, where);
    CU_ASSERT(why && strstr(why, why_part));
    CU_ASSERT_EQUAL(mp.size, 0);
    msgpack_sbuffer_destroy(&mp);
}

/* Strings of every length around the eight-byte steps, plain and with a byte that needs a look
 * at each place: the pieces write what the msgpack conversion writes. */
static void test_json_pieces(void) {
    static const char odd[] = {'"', '\\', '\n', 0x01, 0x7f, (char)0xff, (char)0xc3};
    char text[40], want[300];
    msgpack_sbuffer mp, out;
    msgpack_sbuffer_init(&mp);
    msgpack_sbuffer_init(&out);
    for (size_t n = 0; n < sizeof text; n++)
        for (size_t at = 0; at <= n; at++)
            for (size_t k = 0; k < (at < n ? sizeof odd : 1); k++) {
                for (size_t i = 0; i < n; i++)
                    text[i] = (char)('a' + i % 26);
                if (at < n) text[at] = odd[k];
                mp.size = out.size = 0;
                vd_mp_str_valid(&mp, text, n); /* unchecked on purpose */
                json_of(mp.data, mp.size, want, sizeof want);
                vd_jbuf_t j = {&out, 0};
                vd_json_str(&j, text, n);
                CU_ASSERT_FALSE(j.failed);
                CU_ASSERT(out.size == strlen(want) && memcmp(out.data, want, out.size) == 0);
            }
    vd_jbuf_t j = {&out, 0};
    out.size = 0;
    VD_JSON_LIT(&j, "[");
    vd_json_int(&j, INT64_MIN);
    VD_JSON_LIT(&j, ",");
    vd_json_double(&j, 3.0);
    VD_JSON_LIT(&j, ",");
    vd_json_double(&j, 0.1);
    VD_JSON_LIT(&j, ",");
    vd_json_bool(&j, 0);
    VD_JSON_LIT(&j, ",");
    vd_json_cstr(&j, NULL);
    VD_JSON_LIT(&j, ",");
    vd_json_msgpack(&j, "\x92\x01\xc0", 3);
    VD_JSON_LIT(&j, "]");
    CU_ASSERT_FALSE(j.failed);
    CU_ASSERT_EQUAL(out.size, strlen("[-9223372036854775808,3.0,0.1,false,null,[1,null]]"));
    CU_ASSERT(memcmp(out.data, "[-9223372036854775808,3.0,0.1,false,null,[1,null]]", out.size) ==
              0);
    vd_json_msgpack(&j, "\x92\x01", 2); /* cut short: the line fails */
    CU_ASSERT_TRUE(j.failed);
    msgpack_sbuffer_destroy(&mp);
    msgpack_sbuffer_destroy(&out);
}

/* The shortest text of a double as C's own conversions find it: the fewest digits that read
 * back, whole numbers with ".0". */
static size_t shortest_len(double d) {
    char num[40];
    if (d == (double)(int64_t)d) return (size_t)snprintf(num, sizeof num, "%.0f", d) + 2;
    for (int prec = 1;; prec++) {
        int n = snprintf(num, sizeof num, "%.*g", prec, d);
        if (strtod(num, NULL) == d || prec == 17) return (size_t)n;
    }
}

static void check_double(double d, long *bad) {
    char text[40];
    *vd_json_put_double(text, d) = '\0';
    /* exponent notation can be shorter than plain decimals: only plain text is compared */
    char want[40];
    snprintf(want, sizeof want, "%.17g", d);
    int plain = strchr(want, 'e') == NULL;
    if (strtod(text, NULL) != d || (plain && strlen(text) > shortest_len(d))) {
        if ((*bad)++ < 5) fprintf(stderr, "%.17g written %s\n", d, text);
    }
}

/* Whole numbers next to every power of ten, where the digit count changes. */
static void test_json_ints(void) {
    char text[32], want[32];
    int64_t p = 1;
    for (int k = 0; k <= 18; k++, p = k <= 18 ? p * 10 : p) {
        for (int64_t d = -1; d <= 1; d++)
            for (int sign = 1; sign >= -1; sign -= 2) {
                int64_t v = sign * (p + d);
                *vd_json_put_int(text, v) = '\0';
                snprintf(want, sizeof want, "%lld", (long long)v);
                CU_ASSERT_STRING_EQUAL(text, want);
            }
    }
    const int64_t edges[] = {4294967295ll,  4294967296ll,  4294967294ll,
                             -4294967295ll, -4294967296ll, INT64_MIN};
    for (size_t i = 0; i < sizeof edges / sizeof *edges; i++) {
        *vd_json_put_int(text, edges[i]) = '\0';
        snprintf(want, sizeof want, "%lld", (long long)edges[i]);
        CU_ASSERT_STRING_EQUAL(text, want);
    }
    uint64_t x = 88172645463325252ull; /* every length, and nothing past the 24 bytes of room */
    for (int i = 0; i < 100000; i++) {
        x ^= x << 13, x ^= x >> 7, x ^= x << 17;
        int64_t v = (int64_t)(x >> (1 + x % 63)); /* from 0 to 2^63 - 1 */
        memset(text, '#', sizeof text);
        char *end = vd_json_put_int(text, i & 1 ? -v : v);
        snprintf(want, sizeof want, "%lld", (long long)(i & 1 ? -v : v));
        CU_ASSERT_EQUAL(end - text, (long)strlen(want));
        CU_ASSERT_EQUAL(memcmp(text, want, strlen(want)), 0);
        for (size_t k = 24; k < sizeof text; k++)
            CU_ASSERT_EQUAL(text[k], '#');
    }
    *vd_json_put_int(text, INT64_MAX) = '\0';
    CU_ASSERT_STRING_EQUAL(text, "9223372036854775807");
    *vd_json_put_int(text, 0) = '\0';
    CU_ASSERT_STRING_EQUAL(text, "0");
}

static void test_json_doubles(void) {
    long bad = 0;
    uint64_t x = 88172645463325252ull; /* xorshift: the same values every run */
    for (int i = 0; i < 100000; i++) {
        x ^= x << 13, x ^= x >> 7, x ^= x << 17;
        uint64_t bits = (x & ((1ull << 52) - 1)) | (uint64_t)(1023 - 12 + (x >> 52) % 56) << 52;
        double d;
        memcpy(&d, &bits, sizeof d);
        check_double(i & 1 ? -d : d, &bad);
        check_double((double)(x % 100000) / (double)(1 + (x >> 40) % 1000), &bad);
    }
    for (int e = -12; e < 44; e++) { /* around powers of two, where the gap below is narrower */
        double up = ldexp(1, e), down = up;
        for (int j = 0; j < 50; j++, up = nextafter(up, 2 * up), down = nextafter(down, 0)) {
            check_double(up, &bad);
            check_double(-down, &bad);
        }
    }
    CU_ASSERT_EQUAL(bad, 0);
}

static void test_json_read(void) {
    roundtrip(" {\"a\": [1, -2, 3.5, 1e3, true, false, null, {}, []], \"b\": "
              "\"x\\n\\u00e9\\ud83d\\ude00\\\"\"} ",
              "{\"a\":[1,-2,3.5,1000.0,true,false,null,{},[]],\"b\":"
              "\"x\\n\xc3\xa9\xf0\x9f\x98\x80\\\"\"}");
    roundtrip("[18446744073709551615, -9223372036854775808, 123456789012345678901234]",
              "[18446744073709551615,-9223372036854775808,1.2345678901234569e+23]");
    roundtrip("\"\\ud800 lone\"", "\"\xef\xbf\xbd lone\"");
    bad_json("{\"a\" 1}", 5, "expected ':'");
    bad_json("[1,]", 3, "expected a JSON value");
    bad_json("[01]", 1, "leading zero");
    bad_json("\"abc", 4, "unterminated");
    bad_json("{} x", 3, "after the JSON value");
    char deep[200];
    memset(deep, '[', 100);
    deep[100] = '\0';
    bad_json(deep, 32, "deeper than 32");
}

static void test_ring(void) {
    vd_dlog_ring_t r;
    CU_ASSERT_EQUAL_FATAL(vd_dlog_ring_init(&r, 1), 0);
    CU_ASSERT_EQUAL(r.cap, 64 << 10);
    char rec[3000];
    size_t n;
    /* Fill, drain, and again, many times round: records come out whole and in order, across
     * the end of the buffer, whether copied in or written in place (room asked for more than
     * they take; one in three such reservations dropped for a copy instead). */
    unsigned put = 0, got = 0;
    for (int round = 0; round < 200; round++) {
        int k = 0;
        for (;; k++) {
            size_t len = 100 + (put * 37) % 2900;
            memset(rec, (char)put, len);
            if (put % 2) {
                char *at = vd_dlog_ring_reserve(&r, len + 700);
                if (!at) break;
                memset(at, put % 3 ? (char)put : '#', len + 700);
                if (put % 3)
                    vd_dlog_ring_commit(&r, len);
                else if (vd_dlog_ring_put(&r, rec, len) != 0)
                    break;
            } else if (vd_dlog_ring_put(&r, rec, len) != 0) {
                break;
            }
            put++;
        }
        if (round == 0) CU_ASSERT(k > 10);
        const char *p;
        while ((p = vd_dlog_ring_peek(&r, &n)) != NULL) {
            CU_ASSERT_EQUAL(n, 100 + (got * 37) % 2900);
            CU_ASSERT(p[0] == (char)got && p[n - 1] == (char)got);
            vd_dlog_ring_pop(&r);
            got++;
            if (round % 2 && got % 7 == 0) break; /* leave some in, so the offsets move */
        }
    }
    CU_ASSERT(got <= put && put > 2000);
    CU_ASSERT_EQUAL(vd_dlog_ring_put(&r, rec, 40 << 10), -1); /* over half the ring: never */
    CU_ASSERT_PTR_NULL(vd_dlog_ring_reserve(&r, 40 << 10));
    while (vd_dlog_ring_peek(&r, &n))
        vd_dlog_ring_pop(&r);
    CU_ASSERT_EQUAL(vd_dlog_ring_commit(&r, 10), -1); /* none open: nothing is published */
    CU_ASSERT_PTR_NOT_NULL(vd_dlog_ring_reserve(&r, 100));
    CU_ASSERT_EQUAL(vd_dlog_ring_put(&r, rec, 10), 0); /* a put drops the open reservation */
    CU_ASSERT_EQUAL(vd_dlog_ring_commit(&r, 10), -1);
    CU_ASSERT_PTR_NOT_NULL(vd_dlog_ring_peek(&r, &n));
    CU_ASSERT_EQUAL(n, 10);
    vd_dlog_ring_pop(&r);
    CU_ASSERT_PTR_NULL(vd_dlog_ring_peek(&r, &n));
    vd_dlog_ring_free(&r);
}

/* A worker and the writer at once: each side looks at the other's counter only when the ring
 * seems full or empty, so the ring must still hand over every record whole and in order. */
#define RACE_RECORDS 200000

static void *race_producer(void *arg) {
    vd_dlog_ring_t *r = arg;
    char rec[600];
    for (unsigned i = 0; i < RACE_RECORDS;) {
        size_t len = 8 + (i * 131) % 590;
        memset(rec, (char)i, len);
        memcpy(rec, &i, sizeof i);
        char *at = i % 2 ? vd_dlog_ring_reserve(r, 600) : NULL; /* in place, or copied */
        if (at) {
            memcpy(at, rec, len);
            vd_dlog_ring_commit(r, len);
            i++;
        } else if (!(i % 2) && vd_dlog_ring_put(r, rec, len) == 0) {
            i++; /* full: the consumer catches up */
        }
    }
    return NULL;
}

static void test_ring_two_threads(void) {
    vd_dlog_ring_t r;
    CU_ASSERT_EQUAL_FATAL(vd_dlog_ring_init(&r, 1), 0);
    pthread_t t;
    CU_ASSERT_EQUAL_FATAL(pthread_create(&t, NULL, race_producer, &r), 0);
    unsigned got = 0, bad = 0;
    while (got < RACE_RECORDS) {
        size_t n;
        const char *p = vd_dlog_ring_peek(&r, &n);
        if (!p) continue;
        unsigned seq;
        memcpy(&seq, p, sizeof seq);
        bad += seq != got || n != 8 + (got * 131) % 590 || p[n - 1] != (char)got;
        vd_dlog_ring_pop(&r);
        got++;
    }
    pthread_join(t, NULL);
    CU_ASSERT_EQUAL(bad, 0);
    CU_ASSERT_PTR_NULL(vd_dlog_ring_peek(&r, &(size_t){0}));
    vd_dlog_ring_free(&r);
}

static size_t file_size(const char *path) {
    struct stat st;
    return stat(path, &st) == 0 ? (size_t)st.st_size : 0;
}

static int count_rotated(const char *dir) {
    DIR *d = opendir(dir);
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL)
        n += strncmp(e->d_name, "decisions.jsonl.", 16) == 0 && strlen(e->d_name) >= 32 &&
             e->d_name[24] == 'T'; /* decisions.jsonl.YYYYMMDDTHHMMSSZ */
    closedir(d);
    return n;
}

static void test_sink(void) {
    static const char *const none[] = {NULL};
    char dir[32], path[64];
    CU_ASSERT_EQUAL_FATAL(vd_test_write_dir(none, dir), 0);
    snprintf(path, sizeof path, "%s/decisions.jsonl", dir);
    /* A file a kill cut in the middle of a line: the torn line goes when it is opened again. */
    FILE *f = fopen(path, "w");
    fputs("{\"a\":1}\n{\"b\":", f);
    fclose(f);
    vd_dlog_sink_t s;
    vd_dlog_sink_config_t cfg = {.path = path, .max_bytes = 100, .keep = 2};
    CU_ASSERT_EQUAL_FATAL(vd_dlog_sink_open(&s, &cfg), 0);
    CU_ASSERT(strstr(s.error, "cut short") != NULL);
    CU_ASSERT_EQUAL(file_size(path), 8);
    /* Past max_bytes the file is rotated before the next line; two rotated files are kept.
     * Files that only share the prefix are neither counted nor deleted: once they were, and
     * sorting after the stamps, they made every rotated file go. */
    static const char *const strangers[] = {"decisions.jsonl.1", "decisions.jsonl.bak"};
    for (int i = 0; i < 2; i++) {
        char p[96];
        snprintf(p, sizeof p, "%s/%s", dir, strangers[i]);
        fclose(fopen(p, "w"));
    }
    const char line[] = "{\"k\":\"0123456789012345678901234567890123456789\"}\n"; /* 50 bytes */
    for (int i = 0; i < 12; i++) {
        vd_dlog_sink_rotate_if_due(&s, sizeof line - 1);
        CU_ASSERT_EQUAL(vd_dlog_sink_write(&s, line, sizeof line - 1, 1, 0), sizeof line - 1);
    }
    CU_ASSERT(s.rotations >= 4);
    CU_ASSERT_EQUAL(count_rotated(dir), 2);
    for (int i = 0; i < 2; i++) {
        char p[96];
        snprintf(p, sizeof p, "%s/%s", dir, strangers[i]);
        CU_ASSERT_EQUAL(access(p, F_OK), 0);
    }
    CU_ASSERT(file_size(path) <= 100);
    /* Reopening after the file was moved away (as logrotate does) starts a new one. */
    char moved[80];
    snprintf(moved, sizeof moved, "%s/moved", dir);
    CU_ASSERT_EQUAL(rename(path, moved), 0);
    CU_ASSERT_EQUAL(vd_dlog_sink_reopen(&s), 0);
    CU_ASSERT_EQUAL(vd_dlog_sink_write(&s, line, sizeof line - 1, 1, 0), sizeof line - 1);
    CU_ASSERT_EQUAL(vd_dlog_sink_flush(&s), 0); /* what direct writes staged */
    CU_ASSERT_EQUAL(file_size(path), sizeof line - 1);
    vd_dlog_sink_close(&s);
    vd_test_remove_dir(dir);
}

/* Lines written past an unaligned end, many blocks' worth, staged and flushed: the file holds
 * exactly what was written, whether direct writes were taken (here) or refused (tmpfs). */
static void direct_round_trip(const char *dir) {
    char path[96];
    snprintf(path, sizeof path, "%s/direct.jsonl", dir);
    FILE *f = fopen(path, "w");
    CU_ASSERT_PTR_NOT_NULL_FATAL(f);
    fputs("{\"first\":1}\n", f); /* 12 bytes: the end is not on a block */
    fclose(f);
    vd_dlog_sink_t s;
    vd_dlog_sink_config_t cfg = {.path = path};
    CU_ASSERT_EQUAL_FATAL(vd_dlog_sink_open(&s, &cfg), 0);
    size_t total = 12;
    char line[320];
    for (int i = 0; i < 5000; i++) { /* about 1 MiB: several direct writes */
        int n = snprintf(line, sizeof line, "{\"i\":%d,\"pad\":\"%0*d\"}\n", i, 100 + i % 90, i);
        CU_ASSERT_EQUAL(vd_dlog_sink_write(&s, line, (size_t)n, 1, 0), (size_t)n);
        total += (size_t)n;
        if (i == 2500) { /* a flush in the middle, then more lines over its partial block */
            CU_ASSERT_EQUAL(vd_dlog_sink_flush(&s), 0);
            CU_ASSERT_EQUAL(file_size(path), total);
        }
    }
    vd_dlog_sink_close(&s); /* flushes */
    CU_ASSERT_EQUAL(file_size(path), total);
    f = fopen(path, "r");
    CU_ASSERT_PTR_NOT_NULL_FATAL(f);
    char got[400], want[320];
    CU_ASSERT(fgets(got, sizeof got, f) && strcmp(got, "{\"first\":1}\n") == 0);
    int bad = 0;
    for (int i = 0; i < 5000 && fgets(got, sizeof got, f); i++) {
        snprintf(want, sizeof want, "{\"i\":%d,\"pad\":\"%0*d\"}\n", i, 100 + i % 90, i);
        bad += strcmp(got, want) != 0;
    }
    CU_ASSERT_EQUAL(bad, 0);
    CU_ASSERT_PTR_NULL(fgets(got, sizeof got, f));
    fclose(f);
    unlink(path);
}

static void test_direct_writes(void) {
    static const char *const none[] = {NULL};
    char dir[32];
    CU_ASSERT_EQUAL_FATAL(vd_test_write_dir(none, dir), 0);
    direct_round_trip(dir);
    vd_test_remove_dir(dir);
    char shm[] = "/dev/shm/vd-direct-XXXXXX"; /* tmpfs refuses O_DIRECT: ordinary writes */
    if (mkdtemp(shm)) {
        direct_round_trip(shm);
        rmdir(shm);
    }
}

void vd_suite_dlog(void) {
    static const vd_test_t tests[] = {
        {"decision ids", test_ulid},
        {"msgpack to JSON", test_json_write},
        {"JSON to msgpack", test_json_read},
        {"JSON pieces", test_json_pieces},
        {"whole numbers", test_json_ints},
        {"doubles as their shortest text", test_json_doubles},
        {"a worker's ring", test_ring},
        {"a worker's ring, its two threads at once", test_ring_two_threads},
        {"the file sink", test_sink},
        {"direct writes", test_direct_writes},
        {NULL, NULL}};
    vd_add_suite("dlog", tests);
}
