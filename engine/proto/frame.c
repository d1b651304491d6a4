#include "frame.h"

#include "base/error.h"

static uint64_t be(const uint8_t *p, int n) {
    uint64_t v = 0;
    for (int i = 0; i < n; i++)
        v = (v << 8) | p[i];
    return v;
}

/* Describes the value whose first byte is at p: bytes of header and of payload, and how many
 * child values follow. hdr is the header length needed to know the rest. */
typedef struct head {
    unsigned hdr;      /* fixed header bytes (type byte included) */
    unsigned len_size; /* bytes of the big-endian length/count inside the header */
    int kind;          /* 0 scalar/blob (length = payload), 1 array (count), 2 map (count*2) */
    uint64_t payload;  /* for fixed-size types and fix* types */
} head_t;

static int classify(uint8_t b, head_t *h) {
    h->len_size = 0;
    h->kind = 0;
    h->payload = 0;
    h->hdr = 1;
    if (b <= 0x7f || b >= 0xe0 || b == 0xc0 || b == 0xc2 || b == 0xc3) return 0;
    if (b <= 0x8f) {
        h->kind = 2;
        h->payload = b & 0x0f;
        return 0;
    }
    if (b <= 0x9f) {
        h->kind = 1;
        h->payload = b & 0x0f;
        return 0;
    }
    if (b <= 0xbf) {
        h->payload = b & 0x1f;
        return 0;
    }
    switch (b) {
    case 0xc4:
    case 0xd9:
        h->len_size = 1;
        break;
    case 0xc5:
    case 0xda:
        h->len_size = 2;
        break;
    case 0xc6:
    case 0xdb:
        h->len_size = 4;
        break;
    case 0xc7:
        h->len_size = 1;
        h->payload = 1;
        break; /* ext: + type byte */
    case 0xc8:
        h->len_size = 2;
        h->payload = 1;
        break;
    case 0xc9:
        h->len_size = 4;
        h->payload = 1;
        break;
    case 0xca:
        h->payload = 4;
        break;
    case 0xcb:
        h->payload = 8;
        break;
    case 0xcc:
    case 0xd0:
        h->payload = 1;
        break;
    case 0xcd:
    case 0xd1:
        h->payload = 2;
        break;
    case 0xce:
    case 0xd2:
        h->payload = 4;
        break;
    case 0xcf:
    case 0xd3:
        h->payload = 8;
        break;
    case 0xd4:
        h->payload = 2;
        break;
    case 0xd5:
        h->payload = 3;
        break;
    case 0xd6:
        h->payload = 5;
        break;
    case 0xd7:
        h->payload = 9;
        break;
    case 0xd8:
        h->payload = 17;
        break;
    case 0xdc:
        h->kind = 1;
        h->len_size = 2;
        break;
    case 0xdd:
        h->kind = 1;
        h->len_size = 4;
        break;
    case 0xde:
        h->kind = 2;
        h->len_size = 2;
        break;
    case 0xdf:
        h->kind = 2;
        h->len_size = 4;
        break;
    default:
        return VD_EPROTO; /* 0xc1 */
    }
    h->hdr += h->len_size;
    return 0;
}

int vd_frame_scan_more(vd_frame_scan_t *s, const uint8_t *buf, size_t len, size_t limit,
                       size_t *frame_len) {
    size_t pos = s->pos;
    uint64_t pending = s->pos ? s->pending : 1; /* values still to read */
    while (pending > 0) {
        /* The value at pos is not read yet: a scan that stops here goes on from here. */
        s->pos = pos;
        s->pending = pending;
        if (pos >= len) return pos >= limit ? VD_ETOOLARGE : VD_EAGAIN;
        head_t h;
        if (classify(buf[pos], &h) != 0) return VD_EPROTO;
        if (pos + h.hdr > len) return pos + h.hdr > limit ? VD_ETOOLARGE : VD_EAGAIN;
        uint64_t n = h.len_size ? be(buf + pos + 1, (int)h.len_size) : 0;
        pending--;
        if (h.kind == 0) {
            uint64_t size = h.hdr + h.payload + n;
            if (size > limit || pos + size > limit) return VD_ETOOLARGE;
            if (pos + size > len) return VD_EAGAIN;
            pos += (size_t)size;
        } else {
            uint64_t count = h.len_size ? n : h.payload;
            uint64_t children = h.kind == 2 ? count * 2 : count;
            pos += h.hdr;
            /* Each child takes at least one byte, so a count past the limit cannot fit. */
            if (children > limit || pending + children > limit - (pos < limit ? pos : limit))
                return VD_ETOOLARGE;
            pending += children;
        }
    }
    s->pos = 0;
    s->pending = 0;
    *frame_len = pos;
    return 0;
}

int vd_frame_scan(const uint8_t *buf, size_t len, size_t limit, size_t *frame_len) {
    vd_frame_scan_t s = {0, 0};
    return vd_frame_scan_more(&s, buf, len, limit, frame_len);
}

int vd_frame_peek_msgid(const uint8_t *buf, size_t len, uint32_t *msgid) {
    size_t pos;
    if (len < 1) return VD_ENOTFOUND;
    if (buf[0] >= 0x93 && buf[0] <= 0x9f)
        pos = 1;
    else if (buf[0] == 0xdc)
        pos = 3;
    else if (buf[0] == 0xdd)
        pos = 5;
    else
        return VD_ENOTFOUND;
    if (pos >= len || buf[pos] != 0x00) return VD_ENOTFOUND; /* type 0: request */
    pos++;
    if (pos >= len) return VD_ENOTFOUND;
    uint8_t b = buf[pos];
    uint64_t v;
    if (b <= 0x7f)
        v = b;
    else if ((b == 0xcc || b == 0xd0) && pos + 2 <= len)
        v = buf[pos + 1];
    else if ((b == 0xcd || b == 0xd1) && pos + 3 <= len)
        v = be(buf + pos + 1, 2);
    else if ((b == 0xce || b == 0xd2) && pos + 5 <= len)
        v = be(buf + pos + 1, 4);
    else if ((b == 0xcf || b == 0xd3) && pos + 9 <= len)
        v = be(buf + pos + 1, 8);
    else
        return VD_ENOTFOUND;
    if (v > UINT32_MAX || (b >= 0xd0 && b <= 0xd3 && (buf[pos + 1] & 0x80))) return VD_ENOTFOUND;
    *msgid = (uint32_t)v;
    return 0;
}
