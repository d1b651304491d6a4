#include "json_write.h"

#include "base/utf8.h"
#include "mp_scan.h"
#include "mpbuf.h"

#include <math.h>
#ifdef __SSE2__
#include <emmintrin.h>
#endif
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_DEPTH 64

/* Bytes a JSON string holds as they are: printable ASCII but '"', '\\' and DEL. The others are
 * escaped (controls) or checked as UTF-8 (from 0x80). */
static const unsigned char as_is[256] = {
#define R16(v) v, v, v, v, v, v, v, v, v, v, v, v, v, v, v, v
    R16(0), R16(0),                                              /* 0x00-0x1f */
    1,      1,      0, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,    /* 0x20-0x2f: '"' */
    R16(1), R16(1),                                              /* 0x30-0x4f */
    1,      1,      1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 1, 1, 1,    /* 0x50-0x5f: '\\' */
    R16(1), 1,      1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, /* 0x60-0x7f: DEL */
#undef R16
};

/* Whether any of the 8 bytes of x needs a look: a control, '"', '\\', DEL or a byte from 0x80
 * (the classic test for a zero byte, after an xor with each special value). */
static inline uint64_t needs_look(uint64_t x) {
    const uint64_t ones = 0x0101010101010101ull, highs = 0x8080808080808080ull;
#define ZERO_BYTE(v) (((v)-ones) & ~(v)&highs)
    uint64_t q = x ^ (ones * '"'), b = x ^ (ones * '\\'), del = x ^ (ones * 0x7f);
    return (x & highs) | ((x - ones * 0x20) & ~x & highs) | ZERO_BYTE(q) | ZERO_BYTE(b) |
           ZERO_BYTE(del);
#undef ZERO_BYTE
}

/* Copies u[0..n) to w when none of it needs escaping or checking (the common case: names,
 * keys, most values), eight bytes at a time, and returns 1; else returns 0 (w's bytes are then
 * undefined). */
#ifdef __SSE2__
/* Whether any of the 16 bytes of x needs a look (as needs_look): bytes from 0x80 and controls
 * are those below 0x20 as signed bytes. */
static inline int needs_look_vec(__m128i x) {
    __m128i bad = _mm_or_si128(_mm_cmplt_epi8(x, _mm_set1_epi8(0x20)),
                               _mm_or_si128(_mm_cmpeq_epi8(x, _mm_set1_epi8('"')),
                                            _mm_or_si128(_mm_cmpeq_epi8(x, _mm_set1_epi8('\\')),
                                                         _mm_cmpeq_epi8(x, _mm_set1_epi8(0x7f)))));
    return _mm_movemask_epi8(bad) != 0;
}

static inline int needs_look16(const unsigned char *p) {
    return needs_look_vec(_mm_loadu_si128((const __m128i *)(const void *)p));
}
#endif

/* Whether any of the 16 bytes of x and y needs a look: one vector test where there is SSE2,
 * which keeps the short strings' path free of saved registers. */
static inline int needs_look2(uint64_t x, uint64_t y) {
#ifdef __SSE2__
    return needs_look_vec(_mm_set_epi64x((long long)y, (long long)x));
#else
    return (needs_look(x) | needs_look(y)) != 0;
#endif
}

/* Copies u[0..n) to w when none of it needs escaping or checking (the common case: names,
 * keys, most values), and returns 1; else returns 0 (w's bytes are then undefined). Sixteen
 * bytes at a time where the CPU has SSE2 (every x86-64), else eight; the last step overlaps. */
static inline int copy_plain(char *w, const unsigned char *u, size_t n) {
    uint64_t x, y;
    if (n >= 16) { /* whole steps, then the last one overlapping */
#ifdef __SSE2__
        size_t i = 0;
        for (; i + 16 <= n; i += 16) {
            if (needs_look16(u + i)) return 0;
            memcpy(w + i, u + i, 16);
        }
        if (i < n) {
            if (needs_look16(u + n - 16)) return 0;
            memcpy(w + n - 16, u + n - 16, 16);
        }
#else
        size_t i = 0;
        for (; i + 8 <= n; i += 8) {
            memcpy(&x, u + i, 8);
            if (needs_look(x)) return 0;
            memcpy(w + i, &x, 8);
        }
        if (i < n) {
            memcpy(&x, u + n - 8, 8);
            if (needs_look(x)) return 0;
            memcpy(w + n - 8, &x, 8);
        }
#endif
        return 1;
    }
    if (n >= 8) { /* the first and the last eight bytes, overlapping */
        memcpy(&x, u, 8);
        memcpy(&y, u + n - 8, 8);
        if (needs_look2(x, y)) return 0;
        memcpy(w, &x, 8);
        memcpy(w + n - 8, &y, 8);
        return 1;
    }
    if (n >= 4) { /* the same with four */
        uint32_t a, b;
        memcpy(&a, u, 4);
        memcpy(&b, u + n - 4, 4);
        if (needs_look2((uint64_t)a << 32 | b, 0x2020202020202020ull)) return 0; /* spaces */
        memcpy(w, &a, 4);
        memcpy(w + n - 4, &b, 4);
        return 1;
    }
    for (size_t i = 0; i < n; i++) {
        if (!as_is[u[i]]) return 0;
        w[i] = (char)u[i];
    }
    return 1;
}

static const char hex[] = "0123456789abcdef";

/* A string that needs escaping or checking, byte by byte where it must. Out of line, so that the
 * common case (vd_json_put_str) is a leaf that saves no registers: a log line has about 65
 * strings. */
__attribute__((noinline)) static char *put_str_escaped(char *o, const char *s, size_t n) {
    const unsigned char *u = (const unsigned char *)s;
    *o++ = '"';
    size_t i = 0;
    while (i < n) {
        for (uint64_t x; i + 8 <= n; i += 8, o += 8) { /* eight plain bytes at a time */
            memcpy(&x, u + i, 8);
            if (needs_look(x)) break;
            memcpy(o, &x, 8);
        }
        if (i == n) break;
        unsigned char c = u[i];
        if (as_is[c]) {
            *o++ = (char)c;
            i++;
            continue;
        }
        if (c >= 0x80) {
            size_t seen, k = vd_utf8_char(s + i, n - i, &seen);
            if (k) {
                memcpy(o, s + i, k);
                o += k;
                i += k;
            } else {
                memcpy(o, "\xef\xbf\xbd", 3);
                o += 3;
                i += seen;
            }
            continue;
        }
        *o++ = '\\';
        switch (c) {
        case '"':
            *o++ = '"';
            break;
        case '\\':
            *o++ = '\\';
            break;
        case '\n':
            *o++ = 'n';
            break;
        case '\r':
            *o++ = 'r';
            break;
        case '\t':
            *o++ = 't';
            break;
        default:
            memcpy(o, "u00", 3);
            o[3] = hex[c >> 4];
            o[4] = hex[c & 15];
            o += 5;
            break;
        }
        i++;
    }
    *o++ = '"';
    return o;
}

/* A string: at most 2 + 6 * n bytes (an escaped control takes 6, U+FFFD 3 for one bad byte). */
char *vd_json_put_str(char *o, const char *s, size_t n) {
    if (!copy_plain(o + 1, (const unsigned char *)s, n)) return put_str_escaped(o, s, n);
    o[0] = '"';
    o[n + 1] = '"';
    return o + n + 2;
}

/* 10^0 .. 10^19: every power of ten a uint64_t holds. */
static const uint64_t ten_to[20] = {1ull,
                                    10ull,
                                    100ull,
                                    1000ull,
                                    10000ull,
                                    100000ull,
                                    1000000ull,
                                    10000000ull,
                                    100000000ull,
                                    1000000000ull,
                                    10000000000ull,
                                    100000000000ull,
                                    1000000000000ull,
                                    10000000000000ull,
                                    100000000000000ull,
                                    1000000000000000ull,
                                    10000000000000000ull,
                                    100000000000000000ull,
                                    1000000000000000000ull,
                                    10000000000000000000ull};

/* Digits straight into o, from the last, once their count is known: no copy, and two digits
 * a step. */
static char *put_u64(char *o, uint64_t v) {
    static const char pairs[] = "00010203040506070809101112131415161718192021222324252627282930"
                                "31323334353637383940414243444546474849505152535455565758596061"
                                "62636465666768697071727374757677787980818283848586878889909192"
                                "93949596979899";
    /* the digit count from the bit count (1233 / 4096 ~ log10 2), then one comparison */
    int t = ((64 - __builtin_clzll(v | 1)) * 1233) >> 12;
    int n = t + 1 - ((v | 1) < ten_to[t]);
    char *p = o + n;
    while (v >= 100) {
        unsigned d = (unsigned)(v % 100) * 2;
        v /= 100;
        *--p = pairs[d + 1];
        *--p = pairs[d];
    }
    if (v >= 10) {
        *--p = pairs[v * 2 + 1];
        *--p = pairs[v * 2];
    } else {
        *--p = (char)('0' + v);
    }
    return o + n;
}

char *vd_json_put_int(char *o, int64_t v) {
    if (v >= 0) return put_u64(o, (uint64_t)v);
    *o++ = '-';
    return put_u64(o, (uint64_t)0 - (uint64_t)v);
}

/* d with the fewest decimals, 1 to most (8 at most), that read back as d exactly, or NULL when
 * none does (|d| from 1e-8 to 1e9). The decimal v / 10^k reads back as the double nearest to
 * it, which is what the division computes: when that is d, the text is d's. From 2^53 on, v
 * has more digits than d needs (put_shortest does those). A few multiplications instead of
 * snprintf and strtod (the decision log's lines hold many such numbers). */
static char *put_fixed(char *o, double d, int most) {
    static const double scale[] = {1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8};
    static const uint64_t iscale[] = {10, 100, 1000, 10000, 100000, 1000000, 10000000, 100000000};
    double a = fabs(d);
    if (!(a >= 1e-8 && a < 1e9)) return NULL;
    for (int k = 0; k < most; k++) {
        double v = nearbyint(a * scale[k]);
        if (v >= 0x1p53) break;
        if (v / scale[k] != a) continue;
        uint64_t iv = (uint64_t)v, frac = iv % iscale[k];
        if (d < 0) *o++ = '-';
        o = put_u64(o, iv / iscale[k]);
        *o++ = '.';
        for (int i = k; i >= 0; i--, frac /= 10)
            o[i] = (char)('0' + frac % 10);
        return o + k + 1;
    }
    return NULL;
}

__extension__ typedef unsigned __int128 u128; /* GCC and clang on 64-bit targets */

/* The shortest decimal that reads back as d, for |d| from 2^-10 to 2^40 (what the models' figures
 * mostly are), or NULL outside. Exact integer arithmetic instead of up to three snprintf and
 * strtod calls: d = m * 2^e, and a decimal reads back as d when it lies inside d's rounding
 * interval, whose ends (with room for the narrower gap below a power of two) are (4m - 2 or
 * 4m - 1) / 2^s and (4m + 2) / 2^s, s = 2 - e, ends included when m is even (ties go to the even
 * mantissa). With k decimals, the integers D with D / 10^k inside are those from
 * ceil(low * 10^k) to floor(high * 10^k); the fewest decimals that have one give the shortest
 * text, and the one nearest d is written. Once k decimals have one, so do k + 1: the fewest
 * (from fewest on) are found by halving. In this range 17 digits (k <= 20) always do, and every
 * product stays under 2^122. */
typedef struct interval {
    u128 lo, hi, unit, mask;
    int s, closed;
} interval_t;

/* The first and last integers D with D / 10^k in the interval, where p = 10^k: whether there is
 * one. A k whose D pass 2^64 (20 digits or more) counts as one, without first and last: the
 * fewest decimals are always fewer (17 digits do). */
static int candidates(const interval_t *r, u128 p, uint64_t *first, uint64_t *last) {
    u128 l = r->lo * p, h = r->hi * p;
    if (h >> r->s > UINT64_MAX) {
        *first = 1, *last = 0;
        return 1;
    }
    *first = (uint64_t)(l >> r->s) + ((l & r->mask) != 0 || !r->closed);
    *last = (uint64_t)(h >> r->s) - ((h & r->mask) == 0 && !r->closed);
    return *first <= *last;
}

static inline u128 ten_to_wide(int k) {
    return k < 20 ? ten_to[k] : (u128)ten_to[19] * 10;
}

static char *put_shortest(char *o, double d, int fewest) {
    double a = fabs(d);
    if (!(a >= 0x1p-10 && a < 0x1p40)) return NULL;
    uint64_t bits;
    memcpy(&bits, &a, sizeof bits);
    uint64_t m = (bits & ((1ull << 52) - 1)) | (1ull << 52);
    interval_t r = {.s = 2 - ((int)(bits >> 52) - 1075), .closed = (m & 1) == 0}; /* s: 15..64 */
    r.lo = 4 * (u128)m - (m == 1ull << 52 ? 1 : 2);
    r.hi = 4 * (u128)m + 2;
    r.unit = (u128)1 << r.s;
    r.mask = r.unit - 1;
    uint64_t first, last;
    int k_lo = fewest, k_hi = 20; /* the fewest decimals lie in [k_lo, k_hi] */
    while (k_lo < k_hi) {
        int mid = (k_lo + k_hi) / 2;
        if (candidates(&r, ten_to_wide(mid), &first, &last))
            k_hi = mid;
        else
            k_lo = mid + 1;
    }
    int k = k_hi;
    if (!candidates(&r, ten_to_wide(k), &first, &last) || first > last) return NULL; /* never */
    u128 v = 4 * (u128)m * ten_to_wide(k), rest = v & r.mask, half = r.unit >> 1;
    uint64_t near = (uint64_t)(v >> r.s); /* d * 10^k rounded to the nearest, ties to even */
    if (rest > half || (rest == half && (near & 1))) near++;
    near = near < first ? first : near > last ? last : near;
    uint64_t whole = k < 20 ? near / ten_to[k] : 0;
    uint64_t frac = k < 20 ? near % ten_to[k] : near;
    if (d < 0) *o++ = '-';
    o = put_u64(o, whole);
    *o++ = '.';
    for (int i = k; i > 0; i--, frac /= 10)
        o[i - 1] = (char)('0' + frac % 10);
    return o + k;
}

#define SHORT_DECIMALS 4

/* At most 24 bytes. */
char *vd_json_put_double(char *o, double d) {
    if (!isfinite(d)) return memcpy(o, "null", 4), o + 4;
    if (d > -1e15 && d < 1e15 && d == (double)(int64_t)d && (d != 0 || !signbit(d))) {
        o = vd_json_put_int(
            o, (int64_t)d); /* whole numbers (scores, mostly) keep a fraction, so that */
        return memcpy(o, ".0", 2), o + 2; /* readers see the float msgpack said it was */
    }
    /* A few decimals (a score, a share, a band) are tried the cheap way first; past them, the
     * exact way where it applies, else the cheap way up to eight. */
    char *fixed = put_fixed(o, d, SHORT_DECIMALS);
    if (fixed) return fixed;
    int tried = fabs(d) >= 1e-8 && fabs(d) < 1e9; /* put_fixed looked at 1 to 4 decimals */
    if ((fixed = put_shortest(o, d, tried ? SHORT_DECIMALS + 1 : 1))) return fixed;
    if ((fixed = put_fixed(o, d, 8))) return fixed;
    char num[32];
    int n = 0;
    for (int prec = 15; prec <= 17; prec++) { /* the shortest that reads back as d */
        n = snprintf(num, sizeof num, "%.*g", prec, d);
        if (strtod(num, NULL) == d) break;
    }
    memcpy(o, num, (size_t)n);
    return o + n;
}

static const unsigned char *value(char **o, const unsigned char *p, const unsigned char *end,
                                  int depth);

/* A short string (msgpack fixstr) at p, the most common value: keys and most values. Returns
 * what follows it, or NULL when it is cut short. */
static inline const unsigned char *short_str(char **o, const unsigned char *p,
                                             const unsigned char *end) {
    size_t len = *p & 0x1f;
    const unsigned char *s = p + 1;
    if (len > (size_t)(end - s)) return NULL;
    *o = vd_json_put_str(*o, (const char *)s, len);
    return s + len;
}

/* A map key: a string as it is, a scalar as its text in quotes, a container as a marker. */
static const unsigned char *key(char **o, const unsigned char *p, const unsigned char *end,
                                int depth) {
    vd_mp_value_t h;
    size_t hl = vd_mp_read_head(p, (size_t)(end - p), &h);
    if (!hl) return NULL;
    if (h.kind == VD_MP_STR) return value(o, p, end, depth);
    if (h.kind == VD_MP_ARRAY || h.kind == VD_MP_MAP || h.kind == VD_MP_EXT) {
        size_t skip = vd_mp_skip((const char *)p, (size_t)(end - p));
        if (!skip) return NULL;
        const char *mark = h.kind == VD_MP_ARRAY ? "\"[]\""
                           : h.kind == VD_MP_MAP ? "\"{}\""
                                                 : "\"ext\"";
        size_t len = strlen(mark);
        memcpy(*o, mark, len);
        *o += len;
        return p + skip;
    }
    *(*o)++ = '"';
    const unsigned char *next = value(o, p, end, depth);
    *(*o)++ = '"';
    return next;
}

/* An item of an array or a map's value: the two commonest kinds without a call. */
static inline const unsigned char *element(char **o, const unsigned char *p,
                                           const unsigned char *end, int depth) {
    if (p < end && (*p & 0xe0) == 0xa0) return short_str(o, p, end);
    if (p < end && *p <= 0x7f) {
        *o = put_u64(*o, *p);
        return p + 1;
    }
    return value(o, p, end, depth);
}

static const unsigned char *value(char **o, const unsigned char *p, const unsigned char *end,
                                  int depth) {
    if (p < end && (*p & 0xe0) == 0xa0) return short_str(o, p, end);
    if (p < end && *p <= 0x7f) { /* a small integer */
        *o = put_u64(*o, *p);
        return p + 1;
    }
    vd_mp_value_t h;
    size_t hl = vd_mp_read_head(p, (size_t)(end - p), &h);
    if (!hl || depth > MAX_DEPTH) return NULL;
    p += hl;
    switch (h.kind) {
    case VD_MP_NIL:
        memcpy(*o, "null", 4), *o += 4;
        return p;
    case VD_MP_BOOL:
        if (h.u)
            memcpy(*o, "true", 4), *o += 4;
        else
            memcpy(*o, "false", 5), *o += 5;
        return p;
    case VD_MP_UINT:
        *o = put_u64(*o, h.u);
        return p;
    case VD_MP_INT:
        *o = vd_json_put_int(*o, h.i);
        return p;
    case VD_MP_FLOAT:
        *o = vd_json_put_double(*o, h.d);
        return p;
    case VD_MP_STR:
        if (h.len > (uint64_t)(end - p)) return NULL;
        *o = vd_json_put_str(*o, (const char *)p, (size_t)h.len);
        return p + h.len;
    case VD_MP_EXT:
        if (h.len > (uint64_t)(end - p)) return NULL;
        memcpy(*o, "null", 4), *o += 4;
        return p + h.len;
    case VD_MP_ARRAY:
        *(*o)++ = '[';
        for (uint64_t k = 0; k < h.len; k++) {
            if (k) *(*o)++ = ',';
            if (!(p = element(o, p, end, depth + 1))) return NULL;
        }
        *(*o)++ = ']';
        return p;
    case VD_MP_MAP:
        *(*o)++ = '{';
        for (uint64_t k = 0; k < h.len; k++) {
            if (k) *(*o)++ = ',';
            p = p < end && (*p & 0xe0) == 0xa0 ? short_str(o, p, end) : key(o, p, end, depth + 1);
            if (!p) return NULL;
            *(*o)++ = ':';
            if (!(p = element(o, p, end, depth + 1))) return NULL;
        }
        *(*o)++ = '}';
        return p;
    }
    return NULL;
}

size_t vd_mp_to_json(msgpack_sbuffer *sb, const char *p, size_t n) {
    /* Every msgpack byte becomes at most VD_JSON_GROWTH bytes of JSON: the worst is a map entry
     * false: false (2 bytes) written ,"false":false (14); a control in a string takes 6. */
    if (n > (SIZE_MAX - 64) / VD_JSON_GROWTH || vd_mp_reserve(sb, VD_JSON_GROWTH * n + 64) != 0)
        return 0;
    char *o = sb->data + sb->size;
    const unsigned char *u = (const unsigned char *)p;
    const unsigned char *end = value(&o, u, u + n, 0);
    if (!end) return 0;
    sb->size = (size_t)(o - sb->data);
    return (size_t)(end - u);
}
