#include "seed.h"

#include "base/error.h"
#include "state/store.h"

#include <stdio.h>

_Static_assert(VD_PTEST_WINDOWS == VD_WINDOWS, "a counter seed gives each window of the store");

#define DISTINCT_TTL 86400 /* as verdict.distinct's default */

/* How long before the case's time each part of a counter's seed is counted: what only the day
 * window holds, two hours before (out of the hour); what the hour holds but the minute does
 * not, five minutes before; the minute's at the time itself. Whatever the time, each lands in
 * its windows' buckets (a window slides in sixths). Oldest first: the store's windows move
 * forward only. */
static const int64_t seconds_before[VD_PTEST_WINDOWS] = {0, 300, 7200};

static int seed_counter(vd_store_t *store, const vd_ptest_seed_t *s, int64_t now) {
    uint64_t got[VD_WINDOWS];
    for (int w = VD_PTEST_WINDOWS - 1; w >= 0; w--) {
        int64_t n = s->counts[w] - (w ? s->counts[w - 1] : 0);
        int rc = n > 0 ? vd_store_count(store, s->key, s->keylen, (uint32_t)n,
                                        now - seconds_before[w], got)
                       : 0;
        if (rc) return rc;
    }
    return 0;
}

/* n made-up values (that no rule would add), then the values given. */
static int seed_distinct(vd_store_t *store, const vd_ptest_seed_t *s, int64_t now) {
    double estimate;
    char v[48];
    int rc = 0;
    for (int64_t i = 1; i <= s->n && rc == 0; i++) {
        int len = snprintf(v, sizeof v, "\x01seed %lld", (long long)i);
        rc = vd_store_distinct(store, s->key, s->keylen, v, (size_t)len, now, DISTINCT_TTL,
                               &estimate);
    }
    for (size_t i = 0; i < s->nvalues && rc == 0; i++)
        rc = vd_store_distinct(store, s->key, s->keylen, s->values[i], s->lens[i], now,
                               DISTINCT_TTL, &estimate);
    return rc;
}

int vd_ptest_seed(vd_store_t *store, const vd_ptest_case_t *c) {
    int rc = 0;
    for (uint32_t i = 0; i < c->seeds.len && rc == 0; i++) {
        const vd_ptest_seed_t *s = &VD_VEC_AT(c->seeds, vd_ptest_seed_t, i);
        if (s->kind == VD_PTEST_COUNTER)
            rc = seed_counter(store, s, c->time);
        else if (s->kind == VD_PTEST_DISTINCT)
            rc = seed_distinct(store, s, c->time);
        else
            rc = vd_store_label(store, s->key, s->keylen, c->time, s->n);
    }
    return rc;
}
