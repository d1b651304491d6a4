/* Behaviour profiles: what an account's own history says of an event's values, decay, the
 * slots' limits, places, reads that change nothing, and eviction with the store. */
#include "base/error.h"
#include "state/profile.h"
#include "vd_test.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#define T0  1767225600
#define DAY 86400

static vd_profile_answer_t see(vd_store_t *s, const char *who, int64_t at, const char *country,
                               const char *device, const vd_profile_opts_t *o) {
    vd_profile_attr_t a[2] = {{"country", country, 7, strlen(country)},
                              {"device", device, 6, strlen(device)}};
    vd_profile_answer_t out;
    vd_profile_opts_t none = {0};
    CU_ASSERT_EQUAL(vd_profile_observe(s, who, strlen(who), at, a, 2, o ? o : &none, &out), 0);
    return out;
}

static void test_habits(void) {
    vd_store_t *s = vd_store_new(1 << 20);
    vd_profile_answer_t a = see(s, "acct:alice", T0, "DE", "firefox", NULL);
    CU_ASSERT_EQUAL(a.events, 0);
    CU_ASSERT_FALSE(a.seen[0].known);
    for (int i = 1; i < 10; i++)
        a = see(s, "acct:alice", T0 + i * 3600, "DE", i % 3 ? "firefox" : "android", NULL);
    CU_ASSERT_EQUAL(a.events, 9);
    CU_ASSERT_TRUE(a.seen[0].known);
    CU_ASSERT(a.seen[0].share > 0.99);
    CU_ASSERT_EQUAL(a.seen[1].values, 2);
    a = see(s, "acct:alice", T0 + 10 * 3600, "BR", "firefox", NULL); /* a first time */
    CU_ASSERT_FALSE(a.seen[0].known);
    CU_ASSERT_DOUBLE_EQUAL(a.seen[0].share, 0, 1e-9);
    CU_ASSERT(a.seen[0].total > 9.9);
    CU_ASSERT_EQUAL(a.first_seen, T0);
    CU_ASSERT_EQUAL(a.last_seen, T0 + 9 * 3600);
    /* Ninety days later (three half-lives) the old counts are an eighth. */
    a = see(s, "acct:alice", T0 + 10 * 3600 + 90 * DAY, "DE", "firefox", NULL);
    CU_ASSERT(fabs(a.seen[0].count - 10.0 / 8) < 0.01);
    CU_ASSERT_TRUE(a.seen[0].known);
    CU_ASSERT(a.seen[0].share > 0.9); /* BR came once, DE ten times */
    /* Another account knows nothing of Alice's. */
    a = see(s, "acct:bob", T0, "DE", "firefox", NULL);
    CU_ASSERT_EQUAL(a.events, 0);
    vd_store_free(s);
}

static void test_slots_and_reads(void) {
    vd_store_t *s = vd_store_new(1 << 20);
    char dev[16];
    vd_profile_answer_t a;
    for (int i = 0; i < 20; i++) { /* twenty devices: the profile keeps eight */
        snprintf(dev, sizeof dev, "dev%d", i);
        a = see(s, "acct:x", T0 + i, "DE", dev, NULL);
    }
    a = see(s, "acct:x", T0 + 30, "DE", "dev19", NULL);
    CU_ASSERT_EQUAL(a.seen[1].values, VD_PROFILE_PER_ATTR);
    CU_ASSERT_TRUE(a.seen[1].known);
    CU_ASSERT_EQUAL(a.seen[0].values, 1); /* the country kept its slot */
    vd_profile_opts_t ro = {.read_only = 1};
    a = see(s, "acct:nobody", T0, "DE", "x", &ro); /* a read makes no profile */
    a = see(s, "acct:nobody", T0, "DE", "x", &ro);
    CU_ASSERT_EQUAL(a.events, 0);
    a = see(s, "acct:x", T0 + 40, "DE", "dev19", &ro);
    uint32_t before = a.events;
    a = see(s, "acct:x", T0 + 41, "DE", "dev19", &ro);
    CU_ASSERT_EQUAL(a.events, before); /* nor adds to one */
    vd_profile_attr_t many[VD_PROFILE_MAX_ATTRS + 1];
    for (int i = 0; i <= VD_PROFILE_MAX_ATTRS; i++)
        many[i] = (vd_profile_attr_t){"a", "b", 1, 1};
    CU_ASSERT_EQUAL(vd_profile_observe(s, "k", 1, T0, many, VD_PROFILE_MAX_ATTRS + 1, &ro, &a),
                    VD_EINVAL);
    vd_store_free(s);
}

static void test_places(void) {
    vd_store_t *s = vd_store_new(1 << 20);
    vd_profile_opts_t berlin = {.has_place = 1, .lat = 52.52, .lon = 13.40};
    vd_profile_opts_t sydney = {.has_place = 1, .lat = -33.87, .lon = 151.21};
    vd_profile_answer_t a = see(s, "acct:t", T0, "DE", "f", &berlin);
    CU_ASSERT_FALSE(a.had_place);
    a = see(s, "acct:t", T0 + 3600, "AU", "f", &sydney);
    CU_ASSERT_TRUE(a.had_place);
    CU_ASSERT_EQUAL(a.last_place_at, T0);
    double km = vd_geo_distance_km(a.last_lat, a.last_lon, -33.87, 151.21);
    CU_ASSERT(km > 15900 && km < 16200);
    CU_ASSERT_DOUBLE_EQUAL(vd_geo_distance_km(1, 2, 1, 2), 0, 1e-9);
    vd_store_free(s);
}

/* Profiles count against the store's cap and go, least recently used first, like counters. */
static void test_evicted_with_the_store(void) {
    vd_store_t *s = vd_store_new(64 * 8192);
    char who[32];
    for (int i = 0; i < 5000; i++) {
        snprintf(who, sizeof who, "acct:%d", i);
        see(s, who, T0 + i, "DE", "f", NULL);
    }
    vd_store_stats_t st;
    vd_store_stats(s, &st);
    CU_ASSERT(st.evictions > 0);
    CU_ASSERT(st.bytes <= 64 * 8192);
    vd_profile_answer_t a = see(s, "acct:4999", T0 + 6000, "DE", "f", NULL);
    CU_ASSERT_EQUAL(a.events, 1); /* the newest is still there */
    vd_store_free(s);
}

void vd_suite_profile(void) {
    static const vd_test_t tests[] = {{"an account's habits, and decay", test_habits},
                                      {"slots per attribute, reads", test_slots_and_reads},
                                      {"places and distances", test_places},
                                      {"evicted with the store", test_evicted_with_the_store},
                                      {NULL, NULL}};
    vd_add_suite("profile", tests);
}
