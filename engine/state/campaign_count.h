/* The counts a campaign keeps: a sliding window of item counts in VD_CAMPAIGN_SLOTS buckets,
 * and distinct sources over a sliding window as two HyperLogLog generations of half a window
 * each (their union covers between half a window and a whole one). Both are functions of the
 * times given. */
#ifndef VD_CAMPAIGN_COUNT_H
#define VD_CAMPAIGN_COUNT_H

#include "campaign.h"

#include <stdint.h>

typedef struct vd_campaign_ring {
    uint32_t head; /* the newest bucket's number: time / width */
    uint32_t count[VD_CAMPAIGN_SLOTS];
} vd_campaign_ring_t;

#define VD_CAMPAIGN_RANK_MAX (64 - 7 + 1) /* the largest value a source register can hold */

typedef struct vd_campaign_hll {
    uint32_t gen; /* time / (window / 2) of regs[0]; regs[1] is the generation before */
    uint8_t regs[2][VD_CAMPAIGN_HLL];
} vd_campaign_hll_t;

/* Adds n at now (n = 0 only reads) to a ring of buckets width seconds wide and returns the
 * total of the buckets still inside the window. A time older than the ring's newest bucket
 * adds to its own bucket while that is inside the window (else nothing) and reads the window
 * as of the newest: items that come out of order never clear what is there. */
uint64_t vd_campaign_ring_add(vd_campaign_ring_t *r, int64_t width, uint32_t n, int64_t now);

/* The register a source's hash goes to and the rank it sets there. */
void vd_campaign_hll_point(uint64_t hash, uint32_t *idx, uint8_t *rank);

/* Adds the hash of a source at now (half: half the window, in seconds); a time in the half
 * before the newest source's goes to that generation, an older one is left out. */
void vd_campaign_hll_add(vd_campaign_hll_t *h, int64_t half, uint64_t hash, int64_t now);

/* About how many distinct sources were added within the last one to two halves at now. */
uint64_t vd_campaign_hll_count(const vd_campaign_hll_t *h, int64_t half, int64_t now);

#endif
