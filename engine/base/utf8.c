#include "utf8.h"

#include <stdint.h>
#include <string.h>

/* The length of the valid character at s (n bytes available), or 0 when there is none; then
 * *seen is the length of the maximal subpart there (at least 1): the bytes that begin a valid
 * character but do not finish it. They become one U+FFFD, as the Unicode Standard recommends
 * (section 3.9) and Python, Ruby and browsers do, so that a client reads the same text it
 * would have made of those bytes itself. */
static size_t char_len(const unsigned char *s, size_t n, size_t *seen) {
    unsigned c = s[0];
    *seen = 1;
    if (c < 0x80) return 1;
    size_t len;
    unsigned lo = 0x80, hi = 0xbf; /* the range of the second byte */
    if (c >= 0xc2 && c <= 0xdf)
        len = 2;
    else if (c >= 0xe0 && c <= 0xef) {
        len = 3;
        if (c == 0xe0)
            lo = 0xa0; /* overlong */
        else if (c == 0xed)
            hi = 0x9f; /* surrogates */
    } else if (c >= 0xf0 && c <= 0xf4) {
        len = 4;
        if (c == 0xf0)
            lo = 0x90; /* overlong */
        else if (c == 0xf4)
            hi = 0x8f; /* past U+10FFFF */
    } else
        return 0;
    if (n < 2 || s[1] < lo || s[1] > hi) return 0;
    size_t i = 2;
    while (i < len && i < n && (s[i] & 0xc0) == 0x80)
        i++;
    *seen = i;
    return i == len ? len : 0;
}

size_t vd_utf8_char(const char *s, size_t n, size_t *seen) {
    return char_len((const unsigned char *)s, n, seen);
}

size_t vd_utf8_valid_len(const char *s, size_t n) {
    const unsigned char *p = (const unsigned char *)s;
    size_t i = 0;
    while (i < n) {
        /* Eight ASCII bytes at a time: replies are mostly ASCII names and numbers. */
        while (n - i >= 8) {
            uint64_t w;
            memcpy(&w, p + i, 8);
            if (w & 0x8080808080808080ull) break;
            i += 8;
        }
        if (i >= n) break;
        if (p[i] < 0x80) { /* the common case: ASCII */
            i++;
            continue;
        }
        size_t seen, k = char_len(p + i, n - i, &seen);
        if (!k) return i;
        i += k;
    }
    return n;
}

size_t vd_utf8_repair(const char *s, size_t n, char *out) {
    const unsigned char *p = (const unsigned char *)s;
    size_t i = 0, w = 0;
    while (i < n) {
        size_t seen, k = char_len(p + i, n - i, &seen);
        if (k) {
            if (out) memcpy(out + w, p + i, k);
            w += k;
            i += k;
        } else {
            if (out) memcpy(out + w, "\xef\xbf\xbd", 3);
            w += 3;
            i += seen;
        }
    }
    return w;
}

size_t vd_utf8_cut(const char *s, size_t n, size_t max) {
    if (max >= n) return n;
    size_t cut = max;
    /* Back over continuation bytes to the start of the character max falls in. */
    while (cut > 0 && ((unsigned char)s[cut] & 0xc0) == 0x80 && max - cut < 3)
        cut--;
    return cut;
}
