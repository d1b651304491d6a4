/* A streaming histogram axis: bins of one width, aligned on multiples of that width from
 * zero, covering at most `cap` bins. When a value falls outside, the axis extends; when the
 * span would pass cap, the width climbs its ladder (each width a multiple of the one before,
 * then doubling), so old bins merge whole into new ones. The final width is the smallest
 * that covers every value seen, whatever their order: the same input gives the same bins.
 * Values are integers (milliseconds, or score ticks); the caller keeps the counts and moves
 * them with vd_axis_remap when the axis changes. */
#ifndef VD_REPLAY_AXIS_H
#define VD_REPLAY_AXIS_H

#include <stdint.h>

/* Values are clamped to +-VD_AXIS_LIMIT so that no bin arithmetic overflows. */
#define VD_AXIS_LIMIT ((int64_t)1 << 60)

/* The most bins an axis may have. */
#define VD_AXIS_MAX_BINS 256

typedef struct vd_axis {
    const int64_t *ladder; /* widths, each dividing the next; past the end the width doubles */
    int nladder;
    int level;  /* index into the ladder (or past it) */
    int64_t lo; /* index of the first bin (value / width) */
    int n;      /* bins in use, 0 before the first value */
    int cap;    /* at most VD_AXIS_MAX_BINS */
} vd_axis_t;

void vd_axis_init(vd_axis_t *a, const int64_t *ladder, int nladder, int cap);

/* The width of a bin at the axis's current level. */
int64_t vd_axis_width(const vd_axis_t *a);

/* Makes the axis cover v (clamped). Returns 1 when existing bins moved (a wider width or a
 * lower first bin): *was then holds the axis as it was, for vd_axis_remap; 0 otherwise. */
int vd_axis_fit(vd_axis_t *a, int64_t v, vd_axis_t *was);

/* The bin of v (clamped), which must be covered: 0 <= bin < a->n. */
int vd_axis_bin(const vd_axis_t *a, int64_t v);

/* The first value of bin i. */
int64_t vd_axis_bin_start(const vd_axis_t *a, int i);

/* Moves counts[0..cap) kept on the axis `was` to the axis `now` (the same axis later). */
void vd_axis_remap(const vd_axis_t *was, const vd_axis_t *now, uint64_t *counts);

#endif
