/* Decision ids: ULIDs (26 characters of Crockford base32: 48 bits of Unix milliseconds, then 80
 * random bits), so that ids sort by time, are unique across workers and daemons without any
 * coordination, and read well in logs and URLs. */
#ifndef VD_ULID_H
#define VD_ULID_H

#include <stddef.h>
#include <stdint.h>

#define VD_ULID_LEN 26

/* One thread's generator: a random stream seeded from the kernel. */
typedef struct vd_ulid_gen {
    uint64_t s[2];
} vd_ulid_gen_t;

/* Seeds g from getrandom (falling back to the time and the address of g). */
void vd_ulid_init(vd_ulid_gen_t *g);

/* Writes the id of a decision made at unix_ms into out (VD_ULID_LEN characters and a NUL). */
void vd_ulid_next(vd_ulid_gen_t *g, int64_t unix_ms, char out[VD_ULID_LEN + 1]);

/* 1 when s[0..n) has the form of an id. */
int vd_ulid_valid(const char *s, size_t n);

#endif
