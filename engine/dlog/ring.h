/* One worker's queue of decision-log records for the writer thread: a single-producer,
 * single-consumer ring of bytes. The worker never waits: a record that does not fit is refused
 * (and counted by the caller). Records are opaque bytes here (JSON lines). */
#ifndef VD_DLOG_RING_H
#define VD_DLOG_RING_H

#include <stdalign.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

/* head - tail bytes are in use. The producer's and the consumer's fields are on cache lines of
 * their own, and each side looks at the other's counter only when its last look says the ring
 * is full (producer) or empty (consumer): a record then costs no cache line moving between the
 * worker's core and the writer's, where reading the other counter at every record cost two. */
typedef struct vd_dlog_ring {
    alignas(64) _Atomic uint64_t head; /* bytes ever written (the producer's line) */
    uint64_t tail_seen;                /* tail when the producer last looked */
    size_t reserved_at;                /* an open reservation: where its length goes */
    int reserved, reserved_wraps;      /* one is open; it starts at 0, after a skip */
    char *buf;
    size_t cap;                        /* a power of two */
    alignas(64) _Atomic uint64_t tail; /* bytes ever read (the consumer's line) */
    uint64_t head_seen;                /* head when the consumer last looked */
    char *cbuf;                        /* buf and cap again, for the consumer's line */
    size_t ccap;
} vd_dlog_ring_t;

/* A ring of at least cap bytes (rounded up to a power of two, 64 KiB at least). Returns 0 or
 * VD_ENOMEM. */
int vd_dlog_ring_init(vd_dlog_ring_t *r, size_t cap);
void vd_dlog_ring_free(vd_dlog_ring_t *r);

/* Producer: appends one record of n bytes. Returns 0, or -1 when it does not fit now. */
int vd_dlog_ring_put(vd_dlog_ring_t *r, const void *rec, size_t n);

/* Producer: room for one record of at most most bytes, contiguous, written in place (no copy):
 * where its bytes go, or NULL when the ring has not that much free now. The consumer sees
 * nothing until vd_dlog_ring_commit; another reserve or put before it drops the reservation. */
char *vd_dlog_ring_reserve(vd_dlog_ring_t *r, size_t most);

/* Producer: publishes the record of n bytes (n <= most) written where reserve said. Returns
 * 0, or -1 when no reservation is open (nothing is published). */
int vd_dlog_ring_commit(vd_dlog_ring_t *r, size_t n);

/* Consumer: the next record, or NULL when the ring is empty. It stays valid until
 * vd_dlog_ring_pop. */
const char *vd_dlog_ring_peek(vd_dlog_ring_t *r, size_t *n);
void vd_dlog_ring_pop(vd_dlog_ring_t *r);

/* Bytes in use (any thread; approximate). */
size_t vd_dlog_ring_used(vd_dlog_ring_t *r);

#endif
