#include "ring.h"

#include "base/error.h"

#include <stdlib.h>
#include <string.h>

/* Each record is a 4-byte length then its bytes, padded to 8 bytes so that a length never
 * straddles the end. A record that would straddle the end is preceded by a skip marker and
 * starts again at offset 0. */
#define SKIP      0xffffffffu
#define ALIGN8(n) (((n) + 7) & ~(size_t)7)

int vd_dlog_ring_init(vd_dlog_ring_t *r, size_t cap) {
    size_t c = 64 << 10;
    while (c < cap)
        c <<= 1;
    memset(r, 0, sizeof *r);
    r->buf = r->cbuf = malloc(c);
    if (!r->buf) return VD_ENOMEM;
    r->cap = r->ccap = c;
    return 0;
}

void vd_dlog_ring_free(vd_dlog_ring_t *r) {
    free(r->buf);
    r->buf = r->cbuf = NULL;
}

/* Where a record of n bytes starts (*start: its length's offset): 0, or -1 when it does not
 * fit now; *wraps is set when it must start at 0, after a skip marker at the head. */
static int place(vd_dlog_ring_t *r, size_t n, size_t *start, int *wraps) {
    size_t need = ALIGN8(4 + n);
    if (n >= SKIP || need > r->cap / 2) return -1;
    uint64_t head = atomic_load_explicit(&r->head, memory_order_relaxed);
    size_t off = (size_t)(head & (r->cap - 1)), to_end = r->cap - off;
    size_t total = need <= to_end ? need : to_end + need; /* a skip to the start first */
    if (head - r->tail_seen + total > r->cap) {
        r->tail_seen = atomic_load_explicit(&r->tail, memory_order_acquire);
        if (head - r->tail_seen + total > r->cap) return -1;
    }
    *wraps = need > to_end;
    *start = *wraps ? 0 : off;
    return 0;
}

/* Makes the record of n bytes at start (from place) the consumer's. */
static void publish(vd_dlog_ring_t *r, size_t start, int wraps, size_t n) {
    uint64_t head = atomic_load_explicit(&r->head, memory_order_relaxed);
    size_t off = (size_t)(head & (r->cap - 1)), total = ALIGN8(4 + n);
    if (wraps) {
        uint32_t skip = SKIP;
        memcpy(r->buf + off, &skip, 4);
        total += r->cap - off;
    }
    uint32_t len = (uint32_t)n;
    memcpy(r->buf + start, &len, 4);
    atomic_store_explicit(&r->head, head + total, memory_order_release);
}

int vd_dlog_ring_put(vd_dlog_ring_t *r, const void *rec, size_t n) {
    int wraps;
    size_t start;
    r->reserved = 0;
    if (place(r, n, &start, &wraps) != 0) return -1;
    memcpy(r->buf + start + 4, rec, n);
    publish(r, start, wraps, n);
    return 0;
}

char *vd_dlog_ring_reserve(vd_dlog_ring_t *r, size_t most) {
    int wraps;
    size_t start;
    r->reserved = place(r, most, &start, &wraps) == 0;
    if (!r->reserved) return NULL;
    r->reserved_wraps = wraps; /* the head does not move before commit: the skip's place holds */
    r->reserved_at = start;
    return r->buf + start + 4;
}

int vd_dlog_ring_commit(vd_dlog_ring_t *r, size_t n) {
    if (!r->reserved) return -1;
    r->reserved = 0;
    publish(r, r->reserved_at, r->reserved_wraps, n);
    return 0;
}

const char *vd_dlog_ring_peek(vd_dlog_ring_t *r, size_t *n) {
    uint64_t tail = atomic_load_explicit(&r->tail, memory_order_relaxed);
    if (tail == r->head_seen) {
        r->head_seen = atomic_load_explicit(&r->head, memory_order_acquire);
        if (tail == r->head_seen) return NULL;
    }
    size_t off = (size_t)(tail & (r->ccap - 1));
    uint32_t len;
    memcpy(&len, r->cbuf + off, 4);
    if (len == SKIP) { /* the record starts at 0: step over the rest of the buffer */
        tail += r->ccap - off;
        atomic_store_explicit(&r->tail, tail, memory_order_release);
        off = 0;
        memcpy(&len, r->cbuf, 4);
    }
    *n = len;
    return r->cbuf + off + 4;
}

void vd_dlog_ring_pop(vd_dlog_ring_t *r) {
    uint64_t tail = atomic_load_explicit(&r->tail, memory_order_relaxed);
    size_t off = (size_t)(tail & (r->ccap - 1));
    uint32_t len;
    memcpy(&len, r->cbuf + off, 4);
    atomic_store_explicit(&r->tail, tail + ALIGN8(4 + (size_t)len), memory_order_release);
}

size_t vd_dlog_ring_used(vd_dlog_ring_t *r) {
    return (size_t)(atomic_load_explicit(&r->head, memory_order_relaxed) -
                    atomic_load_explicit(&r->tail, memory_order_relaxed));
}
