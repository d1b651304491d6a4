/* Reading msgpack bytes without decoding them into objects: a value's head, its size (to copy
 * a request's event as it came), an array's items. */
#ifndef VD_MP_SCAN_H
#define VD_MP_SCAN_H

#include <stddef.h>
#include <stdint.h>

typedef enum {
    VD_MP_NIL,
    VD_MP_BOOL,
    VD_MP_UINT,
    VD_MP_INT,
    VD_MP_FLOAT,
    VD_MP_STR, /* str and bin */
    VD_MP_ARRAY,
    VD_MP_MAP,
    VD_MP_EXT
} vd_mp_kind_t;

typedef struct vd_mp_value {
    vd_mp_kind_t kind;
    uint64_t len; /* str/bin/ext bytes, array items, map pairs */
    uint64_t u;   /* VD_MP_UINT, VD_MP_BOOL */
    int64_t i;    /* VD_MP_INT */
    double d;     /* VD_MP_FLOAT */
} vd_mp_value_t;

/* Reads the head of the value at p[0..n): returns its size in bytes (the data of a string or
 * an ext follows it), or 0 when it is cut short or not msgpack. */
size_t vd_mp_read_head(const unsigned char *p, size_t n, vd_mp_value_t *h);

/* The number of bytes of the value at p[0..n), or 0 when it is cut short, malformed or nested
 * deeper than 64 levels. */
size_t vd_mp_skip(const char *p, size_t n);

/* The i-th item of the array at p[0..n) (*len its bytes), or NULL when p is not an array of
 * more than i items or is malformed. */
const char *vd_mp_array_at(const char *p, size_t n, uint32_t i, size_t *len);

/* The same for the LAST item of an array that is itself the last value of p[0..n): its bytes
 * run to the end, so nothing is walked after its start (the event of a decide request is the
 * last item of the params, which are the last of the frame). */
const char *vd_mp_array_last(const char *p, size_t n, uint32_t i, size_t *len);

#endif
