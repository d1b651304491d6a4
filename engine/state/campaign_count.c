#include "campaign_count.h"

#include <math.h>
#include <string.h>

#define SLOTS    VD_CAMPAIGN_SLOTS
#define REGS     VD_CAMPAIGN_HLL
#define HLL_BITS 7

_Static_assert(REGS == 1 << HLL_BITS, "registers are indexed by the hash's top bits");

/* 2^-r for every value a register can hold (64 - HLL_BITS + 1 at most): a read sums 128. */
#define P(r) (1.0 / (double)(1ULL << (r)))
static const double inv_pow2[64 - HLL_BITS + 2] = {
    P(0),  P(1),  P(2),  P(3),  P(4),  P(5),  P(6),  P(7),  P(8),  P(9),  P(10), P(11),
    P(12), P(13), P(14), P(15), P(16), P(17), P(18), P(19), P(20), P(21), P(22), P(23),
    P(24), P(25), P(26), P(27), P(28), P(29), P(30), P(31), P(32), P(33), P(34), P(35),
    P(36), P(37), P(38), P(39), P(40), P(41), P(42), P(43), P(44), P(45), P(46), P(47),
    P(48), P(49), P(50), P(51), P(52), P(53), P(54), P(55), P(56), P(57), P(58)};
#undef P

uint64_t vd_campaign_ring_add(vd_campaign_ring_t *r, int64_t width, uint32_t n, int64_t now) {
    uint32_t epoch = (uint32_t)(now / (width > 0 ? width : 1));
    if (epoch < r->head) { /* older than the newest item (another daemon's clock, a late call) */
        if (n && r->head - epoch < SLOTS) {
            uint32_t *c = &r->count[epoch % SLOTS];
            *c = *c > UINT32_MAX - n ? UINT32_MAX : *c + n;
        }
        epoch = r->head; /* the window as of the newest item; the ring never goes back */
        n = 0;           /* counted above, or too old to count */
    }
    uint32_t age = epoch - r->head; /* buckets the ring is behind */
    if (n && age) {
        for (uint32_t k = 1; k <= age && k <= SLOTS; k++)
            r->count[(r->head + k) % SLOTS] = 0;
        r->head = epoch;
        age = 0;
    }
    if (n) {
        uint32_t *c = &r->count[epoch % SLOTS];
        *c = *c > UINT32_MAX - n ? UINT32_MAX : *c + n;
    }
    uint64_t sum = 0;
    for (uint32_t k = age; k < SLOTS; k++) /* the buckets still inside the window */
        sum += r->count[(r->head + SLOTS - (k - age)) % SLOTS];
    return sum;
}

static uint32_t gen_of(int64_t half, int64_t now) {
    return (uint32_t)(now / (half > 0 ? half : 1));
}

void vd_campaign_hll_point(uint64_t hash, uint32_t *idx, uint8_t *rank) {
    uint64_t rest = hash << HLL_BITS;
    *idx = (uint32_t)(hash >> (64 - HLL_BITS));
    *rank = rest ? (uint8_t)(__builtin_clzll(rest) + 1) : (uint8_t)(64 - HLL_BITS + 1);
}

void vd_campaign_hll_add(vd_campaign_hll_t *h, int64_t half, uint64_t hash, int64_t now) {
    uint32_t g = gen_of(half, now), at = 0;
    if (g < h->gen) { /* older than the newest source: counted while its half is kept */
        if (g + 1 != h->gen) return;
        at = 1;
    } else if (g != h->gen) { /* a new half window: the current generation becomes the previous */
        if (g == h->gen + 1)
            memcpy(h->regs[1], h->regs[0], REGS);
        else
            memset(h->regs[1], 0, REGS);
        memset(h->regs[0], 0, REGS);
        h->gen = g;
    }
    uint32_t idx;
    uint8_t rho;
    vd_campaign_hll_point(hash, &idx, &rho);
    if (rho > h->regs[at][idx]) h->regs[at][idx] = rho;
}

uint64_t vd_campaign_hll_count(const vd_campaign_hll_t *h, int64_t half, int64_t now) {
    uint32_t g = gen_of(half, now);
    uint32_t age = g < h->gen ? 0 : g - h->gen; /* an older time: as of the newest source */
    if (age > 1) return 0;
    double sum = 0, m = REGS, alpha = 0.7213 / (1.0 + 1.079 / m);
    int zeros = 0;
    for (int i = 0; i < REGS; i++) {
        /* age 1: the current generation is the previous one now, the one before is out */
        uint8_t r =
            age ? h->regs[0][i] : (h->regs[0][i] > h->regs[1][i] ? h->regs[0][i] : h->regs[1][i]);
        sum += inv_pow2[r];
        zeros += r == 0;
    }
    double est = alpha * m * m / sum;
    if (est <= 2.5 * m && zeros) est = m * log(m / zeros); /* small range: linear counting */
    return (uint64_t)(est + 0.5);
}
