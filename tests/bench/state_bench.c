/* verdict-state-bench: the embedded store's cost per operation, single-threaded, as the median
 * of 31 batches: a counter increment with its three window reads, over 100,000 keys; and a
 * behaviour profile's read and update (country, device, hour, a place) over 100,000 accounts,
 * each with a few habits. */
#include "state/profile.h"
#include "state/store.h"

#include "bench_time.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifndef KEYS
#define KEYS 100000
#endif
#define OPS 200000

int main(void) {
    vd_store_t *s = vd_store_new((size_t)256 << 20);
    if (!s) return 1;
    char key[32] = "signup:ip:";
    uint64_t c[VD_WINDOWS], sink = 0;
    double t[BATCHES];
    unsigned x = 12345;
    for (int b = 0; b < BATCHES; b++) {
        double t0 = now_ns();
        for (int i = 0; i < OPS; i++) {
            x = x * 1103515245u + 12345u;
            unsigned k = (x >> 8) % KEYS;
            for (int d = 0; d < 8; d++) /* the key as a request would build it: in cache */
                key[10 + d] = "0123456789abcdef"[(k >> (4 * d)) & 15];
            vd_store_count(s, key, 18, 1, 1767225600 + b, c);
            sink += c[0];
        }
        t[b] = (now_ns() - t0) / OPS;
    }
    sort_batches(t);
    printf("state: counter increment + 3 window reads over %d keys: median %.0f ns (min %.0f)%s\n",
           KEYS, t[BATCHES / 2], t[0], sink ? "" : " ");
    static const char *const countries[] = {"DE", "DE", "DE", "FR", "US"};
    static const char *const devices[] = {"Firefox/Linux", "Chrome/Android", "Safari/iOS"};
    char acct[32] = "login:";
    for (int b = 0; b < BATCHES; b++) {
        double t0 = now_ns();
        for (int i = 0; i < OPS; i++) {
            x = x * 1103515245u + 12345u;
            unsigned k = (x >> 8) % KEYS;
            for (int d = 0; d < 8; d++)
                acct[6 + d] = "0123456789abcdef"[(k >> (4 * d)) & 15];
            char hour[3] = {(char)('0' + (x >> 4) % 2), (char)('0' + (x >> 6) % 10), 0};
            vd_profile_attr_t a[3] = {{"country", countries[(x >> 3) % 5], 7, 2},
                                      {"device", devices[(x >> 5) % 3], 6, 13},
                                      {"hour", hour, 4, 2}};
            a[1].vlen = strlen(a[1].value);
            vd_profile_opts_t o = {.has_place = 1, .lat = 52.5, .lon = 13.4};
            vd_profile_answer_t ans;
            vd_profile_observe(s, acct, 14, 1767225600 + b * 60 + i / 1000, a, 3, &o, &ans);
            sink += ans.events;
        }
        t[b] = (now_ns() - t0) / OPS;
    }
    sort_batches(t);
    printf("state: profile read + update (3 attributes, a place) over %d accounts: median %.0f ns "
           "(min %.0f); %d bytes a profile plus its key%s\n",
           KEYS, t[BATCHES / 2], t[0], VD_PROFILE_BYTES, sink ? "" : " ");
    vd_store_free(s);
    return 0;
}
