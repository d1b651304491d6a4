#include "axis.h"

#include <assert.h>
#include <string.h>

void vd_axis_init(vd_axis_t *a, const int64_t *ladder, int nladder, int cap) {
    assert(nladder > 0 && cap >= 4 && cap <= VD_AXIS_MAX_BINS);
    *a = (vd_axis_t){.ladder = ladder, .nladder = nladder, .cap = cap};
}

static int64_t width_at(const vd_axis_t *a, int level) {
    if (level < a->nladder) return a->ladder[level];
    int64_t w = a->ladder[a->nladder - 1];
    for (int i = a->nladder - 1; i < level && w < VD_AXIS_LIMIT; i++)
        w *= 2;
    return w;
}

int64_t vd_axis_width(const vd_axis_t *a) {
    return width_at(a, a->level);
}

static int64_t clamp(int64_t v) {
    return v > VD_AXIS_LIMIT ? VD_AXIS_LIMIT : v < -VD_AXIS_LIMIT ? -VD_AXIS_LIMIT : v;
}

/* Rounds towards minus infinity, so bins stay aligned across zero. */
static int64_t floor_div(int64_t v, int64_t d) {
    int64_t q = v / d;
    return (v % d != 0 && (v < 0) != (d < 0)) ? q - 1 : q;
}

int vd_axis_fit(vd_axis_t *a, int64_t v, vd_axis_t *was) {
    v = clamp(v);
    int64_t w = vd_axis_width(a), idx = floor_div(v, w);
    if (a->n == 0) {
        a->lo = idx;
        a->n = 1;
        return 0;
    }
    int64_t lo = a->lo, hi = a->lo + a->n - 1;
    if (idx >= lo && idx <= hi) return 0;
    *was = *a;
    if (idx < lo) lo = idx;
    if (idx > hi) hi = idx;
    /* Width 2^61 puts every clamped value within four bins, so this ends. */
    while (hi - lo + 1 > a->cap) {
        int64_t f = width_at(a, a->level + 1) / w;
        a->level++;
        w *= f;
        lo = floor_div(lo, f);
        hi = floor_div(hi, f);
    }
    a->lo = lo;
    a->n = (int)(hi - lo + 1);
    return 1;
}

int vd_axis_bin(const vd_axis_t *a, int64_t v) {
    int64_t i = floor_div(clamp(v), vd_axis_width(a)) - a->lo;
    assert(i >= 0 && i < a->n);
    return (int)i;
}

int64_t vd_axis_bin_start(const vd_axis_t *a, int i) {
    return (a->lo + i) * vd_axis_width(a);
}

void vd_axis_remap(const vd_axis_t *was, const vd_axis_t *now, uint64_t *counts) {
    uint64_t moved[VD_AXIS_MAX_BINS] = {0};
    int64_t wold = vd_axis_width(was), wnew = vd_axis_width(now);
    for (int i = 0; i < was->n; i++) {
        if (!counts[i]) continue;
        int64_t j = floor_div((was->lo + i) * wold, wnew) - now->lo;
        assert(j >= 0 && j < now->n);
        moved[j] += counts[i];
    }
    memcpy(counts, moved, (size_t)now->cap * sizeof *counts);
}
