/* One worker's queue of decision-log records for the writer thread: a single-producer,
 * single-consumer ring of bytes. The worker never waits: a record that does not fit is refused
 * (and counted by the caller). Records are opaque bytes here (JSON lines). */
#ifndef VD_DLOG_RING_H
#define VD_DLOG_RING_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

typedef struct vd_dlog_ring {
    char *buf;
    size_t cap;                  /* a power of two */
    _Atomic uint64_t head, tail; /* bytes ever written / ever read; head - tail is in use */
} vd_dlog_ring_t;

/* A ring of at least cap bytes (rounded up to a power of two, 64 KiB at least). Returns 0 or
 * VD_ENOMEM. */
int vd_dlog_ring_init(vd_dlog_ring_t *r, size_t cap);
void vd_dlog_ring_free(vd_dlog_ring_t *r);

/* Producer: appends one record of n bytes. Returns 0, or -1 when it does not fit now. */
int vd_dlog_ring_put(vd_dlog_ring_t *r, const void *rec, size_t n);

/* Consumer: the next record, or NULL when the ring is empty. It stays valid until
 * vd_dlog_ring_pop. */
const char *vd_dlog_ring_peek(vd_dlog_ring_t *r, size_t *n);
void vd_dlog_ring_pop(vd_dlog_ring_t *r);

/* Bytes in use (any thread; approximate). */
size_t vd_dlog_ring_used(vd_dlog_ring_t *r);

#endif
