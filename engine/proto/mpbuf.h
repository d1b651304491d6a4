/* Writing msgpack straight into an msgpack_sbuffer, inline: a reply of a hundred small strings
 * costs a hundred copies instead of two library callbacks and a strlen each. The encodings are
 * msgpack's own (the smallest form of each value). On out of memory a write is dropped. */
#ifndef VD_MPBUF_H
#define VD_MPBUF_H

#include "base/utf8.h"

#include <msgpack.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* Room for n more bytes; 0, or -1 when out of memory. */
static inline int vd_mp_reserve(msgpack_sbuffer *sb, size_t n) {
    if (sb->alloc - sb->size >= n) return 0;
    size_t cap = sb->alloc ? sb->alloc * 2 : 1024;
    while (cap - sb->size < n)
        cap *= 2;
    char *data = realloc(sb->data, cap);
    if (!data) return -1;
    sb->data = data;
    sb->alloc = cap;
    return 0;
}

static inline void vd_mp_raw(msgpack_sbuffer *sb, const void *p, size_t n) {
    if (vd_mp_reserve(sb, n) != 0) return;
    memcpy(sb->data + sb->size, p, n);
    sb->size += n;
}

/* A type byte followed by a big-endian number of width bytes. */
static inline void vd_mp_head(msgpack_sbuffer *sb, uint8_t type, uint64_t v, int width) {
    if (vd_mp_reserve(sb, 1 + (size_t)width) != 0) return;
    unsigned char *p = (unsigned char *)sb->data + sb->size;
    *p++ = type;
    for (int i = width - 1; i >= 0; i--)
        *p++ = (unsigned char)(v >> (8 * i));
    sb->size += 1 + (size_t)width;
}

/* A string that is not valid UTF-8, written with U+FFFD for the bytes that are not (mpbuf.c). */
void vd_mp_str_repaired(msgpack_sbuffer *sb, const char *s, size_t n);

/* Writes a string header for n bytes (room reserved by the caller). */
static inline void vd_mp_str_head(msgpack_sbuffer *sb, size_t n) {
    if (n < 32)
        sb->data[sb->size++] = (char)(0xa0 | n);
    else if (n < 256)
        vd_mp_head(sb, 0xd9, n, 1);
    else if (n < 65536)
        vd_mp_head(sb, 0xda, n, 2);
    else
        vd_mp_head(sb, 0xdb, n, 4);
}

/* A string known to be valid UTF-8 (the engine's own text): written without the check. */
static inline void vd_mp_str_valid(msgpack_sbuffer *sb, const char *s, size_t n) {
    if (vd_mp_reserve(sb, n + 5) != 0) return;
    vd_mp_str_head(sb, n);
    memcpy(sb->data + sb->size, s, n);
    sb->size += n;
}

/* A string, always valid UTF-8: bytes that are not (echoed from a request) become U+FFFD. */
static inline void vd_mp_str(msgpack_sbuffer *sb, const char *s, size_t n) {
    if (vd_utf8_valid_len(s, n) != n)
        vd_mp_str_repaired(sb, s, n);
    else
        vd_mp_str_valid(sb, s, n);
}

static inline void vd_mp_cstr(msgpack_sbuffer *sb, const char *s) {
    vd_mp_str(sb, s, strlen(s));
}

/* A string literal of the engine's source (ASCII): its length is known when compiling. */
#define VD_MP_LIT(sb, lit) vd_mp_str_valid((sb), (lit), sizeof(lit) - 1)

static inline void vd_mp_container(msgpack_sbuffer *sb, uint32_t n, uint8_t fix, uint8_t t16) {
    if (n < 16) {
        uint8_t b = (uint8_t)(fix | n);
        vd_mp_raw(sb, &b, 1);
    } else if (n < 65536) {
        vd_mp_head(sb, t16, n, 2);
    } else {
        vd_mp_head(sb, (uint8_t)(t16 + 1), n, 4);
    }
}

static inline void vd_mp_map(msgpack_sbuffer *sb, uint32_t n) {
    vd_mp_container(sb, n, 0x80, 0xde);
}

static inline void vd_mp_array(msgpack_sbuffer *sb, uint32_t n) {
    vd_mp_container(sb, n, 0x90, 0xdc);
}

static inline void vd_mp_double(msgpack_sbuffer *sb, double d) {
    uint64_t bits;
    memcpy(&bits, &d, sizeof bits);
    vd_mp_head(sb, 0xcb, bits, 8);
}

static inline void vd_mp_bool(msgpack_sbuffer *sb, int b) {
    uint8_t v = b ? 0xc3 : 0xc2;
    vd_mp_raw(sb, &v, 1);
}

static inline void vd_mp_nil(msgpack_sbuffer *sb) {
    uint8_t v = 0xc0;
    vd_mp_raw(sb, &v, 1);
}

static inline void vd_mp_int(msgpack_sbuffer *sb, int64_t v) {
    if (v >= 0 && v < 128) {
        uint8_t b = (uint8_t)v;
        vd_mp_raw(sb, &b, 1);
    } else if (v >= -32 && v < 0) {
        uint8_t b = (uint8_t)(0xe0 | (v + 32));
        vd_mp_raw(sb, &b, 1);
    } else if (v > 0) {
        if (v < 256)
            vd_mp_head(sb, 0xcc, (uint64_t)v, 1);
        else if (v < 65536)
            vd_mp_head(sb, 0xcd, (uint64_t)v, 2);
        else if (v <= 0xffffffffLL)
            vd_mp_head(sb, 0xce, (uint64_t)v, 4);
        else
            vd_mp_head(sb, 0xcf, (uint64_t)v, 8);
    } else {
        if (v >= -128)
            vd_mp_head(sb, 0xd0, (uint64_t)v & 0xff, 1);
        else if (v >= -32768)
            vd_mp_head(sb, 0xd1, (uint64_t)v & 0xffff, 2);
        else if (v >= -2147483648LL)
            vd_mp_head(sb, 0xd2, (uint64_t)v & 0xffffffff, 4);
        else
            vd_mp_head(sb, 0xd3, (uint64_t)v, 8);
    }
}

#endif
