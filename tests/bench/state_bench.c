/* verdict-state-bench: the embedded store's cost per operation, single-threaded, as the median
 * of 31 batches: a counter increment with its three window reads, over 100,000 keys. */
#include "state/store.h"

#include "bench_time.h"

#include <stdio.h>
#include <stdlib.h>

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
    vd_store_free(s);
    return 0;
}
