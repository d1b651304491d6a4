#include "mp_scan.h"

#include <string.h>

#define MAX_DEPTH 64

static uint64_t be(const unsigned char *p, int w) {
    uint64_t v = 0;
    for (int k = 0; k < w; k++)
        v = v << 8 | p[k];
    return v;
}

size_t vd_mp_read_head(const unsigned char *p, size_t n, vd_mp_value_t *h) {
    static const int widths[4] = {1, 2, 4, 8};
    if (n < 1) return 0;
    unsigned c = p[0];
    h->len = 0;
    if (c <= 0x7f) {
        h->kind = VD_MP_UINT, h->u = c;
        return 1;
    }
    if ((c & 0xe0) == 0xa0) {
        h->kind = VD_MP_STR, h->len = c & 0x1f;
        return 1;
    }
    if ((c & 0xf0) == 0x80 || (c & 0xf0) == 0x90) {
        h->kind = (c & 0xf0) == 0x80 ? VD_MP_MAP : VD_MP_ARRAY, h->len = c & 0x0f;
        return 1;
    }
    if (c >= 0xe0) {
        h->kind = VD_MP_INT, h->i = (int8_t)c;
        return 1;
    }
    int w;
    switch (c) {
    case 0xc0:
        h->kind = VD_MP_NIL;
        return 1;
    case 0xc2:
    case 0xc3:
        h->kind = VD_MP_BOOL, h->u = c == 0xc3;
        return 1;
    case 0xcc:
    case 0xcd:
    case 0xce:
    case 0xcf: /* uint 8..64 */
        w = widths[c - 0xcc];
        if (n < 1 + (size_t)w) return 0;
        h->kind = VD_MP_UINT, h->u = be(p + 1, w);
        return 1 + (size_t)w;
    case 0xd0:
    case 0xd1:
    case 0xd2:
    case 0xd3: { /* int 8..64: sign-extend */
        w = widths[c - 0xd0];
        if (n < 1 + (size_t)w) return 0;
        uint64_t v = be(p + 1, w), sign = 1ull << (8 * w - 1);
        h->kind = VD_MP_INT;
        h->i = w == 8 ? (int64_t)v : (int64_t)((v ^ sign) - sign);
        return 1 + (size_t)w;
    }
    case 0xca:
    case 0xcb: {
        w = c == 0xca ? 4 : 8;
        if (n < 1 + (size_t)w) return 0;
        uint64_t v = be(p + 1, w);
        h->kind = VD_MP_FLOAT;
        if (w == 4) {
            uint32_t b = (uint32_t)v;
            float f;
            memcpy(&f, &b, 4);
            h->d = f;
        } else {
            memcpy(&h->d, &v, 8);
        }
        return 1 + (size_t)w;
    }
    case 0xd9:
    case 0xda:
    case 0xdb: /* str 8..32 */
    case 0xc4:
    case 0xc5:
    case 0xc6: /* bin 8..32 */
        w = widths[c >= 0xd9 ? c - 0xd9 : c - 0xc4];
        if (n < 1 + (size_t)w) return 0;
        h->kind = VD_MP_STR, h->len = be(p + 1, w);
        return 1 + (size_t)w;
    case 0xdc:
    case 0xdd:
    case 0xde:
    case 0xdf: /* array, map 16 and 32 */
        w = c == 0xdc || c == 0xde ? 2 : 4;
        if (n < 1 + (size_t)w) return 0;
        h->kind = c <= 0xdd ? VD_MP_ARRAY : VD_MP_MAP, h->len = be(p + 1, w);
        return 1 + (size_t)w;
    case 0xd4:
    case 0xd5:
    case 0xd6:
    case 0xd7:
    case 0xd8: /* fixext: a type, 1..16 bytes */
        if (n < 2) return 0;
        h->kind = VD_MP_EXT, h->len = 1ull << (c - 0xd4);
        return 2;
    case 0xc7:
    case 0xc8:
    case 0xc9: /* ext 8..32: a length, a type, the data */
        w = widths[c - 0xc7];
        if (n < 2 + (size_t)w) return 0;
        h->kind = VD_MP_EXT, h->len = be(p + 1, w);
        return 2 + (size_t)w;
    default:
        return 0; /* 0xc1: never used */
    }
}

static size_t skip_at(const unsigned char *p, size_t n, int depth) {
    vd_mp_value_t h;
    size_t off = vd_mp_read_head(p, n, &h);
    if (!off || depth > MAX_DEPTH) return 0;
    if (h.kind == VD_MP_STR || h.kind == VD_MP_EXT) return h.len <= n - off ? off + h.len : 0;
    if (h.kind != VD_MP_ARRAY && h.kind != VD_MP_MAP) return off;
    uint64_t items = h.kind == VD_MP_MAP ? h.len * 2 : h.len;
    for (uint64_t k = 0; k < items; k++) {
        size_t s = skip_at(p + off, n - off, depth + 1);
        if (!s) return 0;
        off += s;
    }
    return off;
}

size_t vd_mp_skip(const char *p, size_t n) {
    return skip_at((const unsigned char *)p, n, 0);
}

/* The offset of item i of the array at p (which must have more than i items), or 0. */
static size_t item_offset(const unsigned char *u, size_t n, uint32_t i, uint64_t *items) {
    vd_mp_value_t h;
    size_t off = vd_mp_read_head(u, n, &h);
    if (!off || h.kind != VD_MP_ARRAY || h.len <= i) return 0;
    *items = h.len;
    for (uint32_t k = 0; k < i; k++) {
        size_t s = skip_at(u + off, n - off, 1);
        if (!s) return 0;
        off += s;
    }
    return off < n ? off : 0;
}

const char *vd_mp_array_at(const char *p, size_t n, uint32_t i, size_t *len) {
    const unsigned char *u = (const unsigned char *)p;
    uint64_t items;
    size_t off = item_offset(u, n, i, &items);
    if (!off || !(*len = skip_at(u + off, n - off, 1))) return NULL;
    return p + off;
}

const char *vd_mp_array_last(const char *p, size_t n, uint32_t i, size_t *len) {
    uint64_t items;
    size_t off = item_offset((const unsigned char *)p, n, i, &items);
    if (!off || items != (uint64_t)i + 1) return NULL;
    *len = n - off;
    return p + off;
}
