#include "json_read.h"

#include "mpbuf.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define MAX_DEPTH 32 /* as the msgpack decoder that reads the result */

typedef struct reader {
    const char *s, *end;
    const char *p;
    msgpack_sbuffer *sb;
    const char *why;
    int depth;
} reader_t;

static int fail(reader_t *r, const char *why) {
    if (!r->why) r->why = why;
    return -1;
}

static void skip_ws(reader_t *r) {
    while (r->p < r->end && (*r->p == ' ' || *r->p == '\t' || *r->p == '\n' || *r->p == '\r'))
        r->p++;
}

/* A 32-bit count patched in once the container is done (non-minimal, valid msgpack). */
static size_t open_container(reader_t *r, uint8_t type) {
    size_t at = r->sb->size;
    vd_mp_head(r->sb, type, 0, 4);
    return at;
}

static void close_container(reader_t *r, size_t at, uint32_t count) {
    if (r->sb->size < at + 5) return; /* out of memory earlier: the caller fails anyway */
    unsigned char *p = (unsigned char *)r->sb->data + at + 1;
    p[0] = (unsigned char)(count >> 24), p[1] = (unsigned char)(count >> 16);
    p[2] = (unsigned char)(count >> 8), p[3] = (unsigned char)count;
}

static int hex4(const char *p, unsigned *out) {
    unsigned v = 0;
    for (int i = 0; i < 4; i++) {
        char c = p[i];
        v <<= 4;
        if (c >= '0' && c <= '9')
            v |= (unsigned)(c - '0');
        else if (c >= 'a' && c <= 'f')
            v |= (unsigned)(c - 'a' + 10);
        else if (c >= 'A' && c <= 'F')
            v |= (unsigned)(c - 'A' + 10);
        else
            return -1;
    }
    *out = v;
    return 0;
}

static size_t utf8_put(char *o, unsigned cp) {
    if (cp < 0x80) return o[0] = (char)cp, 1;
    if (cp < 0x800) return o[0] = (char)(0xc0 | cp >> 6), o[1] = (char)(0x80 | (cp & 0x3f)), 2;
    if (cp < 0x10000) {
        o[0] = (char)(0xe0 | cp >> 12), o[1] = (char)(0x80 | ((cp >> 6) & 0x3f));
        o[2] = (char)(0x80 | (cp & 0x3f));
        return 3;
    }
    o[0] = (char)(0xf0 | cp >> 18), o[1] = (char)(0x80 | ((cp >> 12) & 0x3f));
    o[2] = (char)(0x80 | ((cp >> 6) & 0x3f)), o[3] = (char)(0x80 | (cp & 0x3f));
    return 4;
}

/* Whether any of the 8 bytes of x is '"', '\\' or a control (the test for a zero byte after
 * an xor with each). */
static inline uint64_t special(uint64_t x) {
    const uint64_t ones = 0x0101010101010101ull, highs = 0x8080808080808080ull;
    uint64_t q = x ^ (ones * '"'), b = x ^ (ones * '\\');
    return (((q - ones) & ~q) | ((b - ones) & ~b) | ((x - ones * 0x20) & ~x)) & highs;
}

/* A string at r->p (the opening quote). */
static int string(reader_t *r) {
    const char *start = ++r->p, *q = start;
    for (uint64_t x; r->end - q >= 8; q += 8) { /* eight plain bytes at a time */
        memcpy(&x, q, 8);
        if (special(x)) break;
    }
    while (q < r->end && *q != '"' && *q != '\\' && (unsigned char)*q >= 0x20)
        q++;
    if (q < r->end && *q == '"') { /* no escapes: the common case */
        size_t n = (size_t)(q - start);
        vd_mp_str_head(r->sb, n);
        memcpy(r->sb->data + r->sb->size, start, n);
        r->sb->size += n;
        r->p = q + 1;
        return 0;
    }
    /* Escapes: decoded after a 32-bit header whose length is patched in. The decoded text is
     * never longer than the escaped one. */
    size_t at = r->sb->size;
    vd_mp_head(r->sb, 0xdb, 0, 4);
    char *o = r->sb->data + r->sb->size;
    const char *p = start;
    for (;;) {
        if (p >= r->end) return r->p = p, fail(r, "unterminated string");
        unsigned char c = (unsigned char)*p;
        if (c == '"') break;
        if (c < 0x20) return r->p = p, fail(r, "control character in a string");
        if (c != '\\') {
            *o++ = (char)c, p++;
            continue;
        }
        if (p + 1 >= r->end) return r->p = p, fail(r, "unterminated string");
        char e = p[1];
        p += 2;
        switch (e) {
        case '"':
            *o++ = '"';
            break;
        case '\\':
            *o++ = '\\';
            break;
        case '/':
            *o++ = '/';
            break;
        case 'b':
            *o++ = '\b';
            break;
        case 'f':
            *o++ = '\f';
            break;
        case 'n':
            *o++ = '\n';
            break;
        case 'r':
            *o++ = '\r';
            break;
        case 't':
            *o++ = '\t';
            break;
        case 'u': {
            unsigned cp, lo;
            if (r->end - p < 4 || hex4(p, &cp)) return r->p = p, fail(r, "bad \\u escape");
            p += 4;
            if (cp >= 0xd800 && cp <= 0xdbff && r->end - p >= 6 && p[0] == '\\' && p[1] == 'u' &&
                hex4(p + 2, &lo) == 0 && lo >= 0xdc00 && lo <= 0xdfff) {
                cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
                p += 6;
            } else if (cp >= 0xd800 && cp <= 0xdfff) {
                cp = 0xfffd; /* a lone surrogate has no UTF-8 form */
            }
            o += utf8_put(o, cp);
            break;
        }
        default:
            return r->p = p - 1, fail(r, "bad escape in a string");
        }
    }
    size_t n = (size_t)(o - (r->sb->data + r->sb->size));
    r->sb->size += n;
    unsigned char *h = (unsigned char *)r->sb->data + at + 1;
    h[0] = (unsigned char)(n >> 24), h[1] = (unsigned char)(n >> 16);
    h[2] = (unsigned char)(n >> 8), h[3] = (unsigned char)n;
    r->p = p + 1;
    return 0;
}

static int number(reader_t *r) {
    const char *p = r->p, *start = p;
    int neg = 0, is_int = 1;
    if (p < r->end && *p == '-') neg = 1, p++;
    if (p >= r->end || *p < '0' || *p > '9') return fail(r, "bad number");
    if (*p == '0' && p + 1 < r->end && p[1] >= '0' && p[1] <= '9')
        return r->p = p, fail(r, "leading zero in a number");
    while (p < r->end && *p >= '0' && *p <= '9')
        p++;
    if (p < r->end && *p == '.') {
        is_int = 0, p++;
        if (p >= r->end || *p < '0' || *p > '9') return r->p = p, fail(r, "bad number");
        while (p < r->end && *p >= '0' && *p <= '9')
            p++;
    }
    if (p < r->end && (*p == 'e' || *p == 'E')) {
        is_int = 0, p++;
        if (p < r->end && (*p == '+' || *p == '-')) p++;
        if (p >= r->end || *p < '0' || *p > '9') return r->p = p, fail(r, "bad number");
        while (p < r->end && *p >= '0' && *p <= '9')
            p++;
    }
    r->p = p;
    if (is_int && p - start <= 20) {
        uint64_t v = 0;
        int overflow = 0;
        for (const char *d = start + neg; d < p; d++) {
            unsigned digit = (unsigned)(*d - '0');
            if (v > (UINT64_MAX - digit) / 10) overflow = 1;
            v = v * 10 + digit;
        }
        if (!overflow && !neg) {
            if (v <= INT64_MAX)
                vd_mp_int(r->sb, (int64_t)v);
            else
                vd_mp_head(r->sb, 0xcf, v, 8); /* past int64: uint64 */
            return 0;
        }
        if (!overflow && v <= (uint64_t)INT64_MAX + 1) {
            vd_mp_int(r->sb, v == (uint64_t)INT64_MAX + 1 ? INT64_MIN : -(int64_t)v);
            return 0;
        }
    }
    char buf[64]; /* strtod wants a terminated string */
    size_t len = (size_t)(p - start);
    if (len >= sizeof buf) return r->p = start, fail(r, "number too long");
    memcpy(buf, start, len);
    buf[len] = '\0';
    vd_mp_double(r->sb, strtod(buf, NULL));
    return 0;
}

static int literal(reader_t *r, const char *word, size_t n) {
    if ((size_t)(r->end - r->p) < n || memcmp(r->p, word, n) != 0)
        return fail(r, "unexpected text (expected a JSON value)");
    r->p += n;
    return 0;
}

static int value(reader_t *r);

/* A key and its colon, before an object's value. */
static int member_key(reader_t *r) {
    skip_ws(r);
    if (r->p >= r->end || *r->p != '"') return fail(r, "expected a string key");
    if (string(r)) return -1;
    skip_ws(r);
    if (r->p >= r->end || *r->p != ':') return fail(r, "expected ':'");
    r->p++;
    return 0;
}

/* An object (is_object) or an array at r->p (its opening bracket). */
static int container(reader_t *r, int is_object) {
    char close = is_object ? '}' : ']';
    size_t at = open_container(r, is_object ? 0xdf : 0xdd);
    uint32_t count = 0;
    r->p++;
    skip_ws(r);
    if (r->p < r->end && *r->p == close) {
        r->p++;
        close_container(r, at, 0);
        return 0;
    }
    for (;;) {
        if ((is_object && member_key(r)) || value(r)) return -1;
        count++;
        skip_ws(r);
        if (r->p < r->end && *r->p == ',') {
            r->p++;
            continue;
        }
        if (r->p < r->end && *r->p == close) break;
        return fail(r, is_object ? "expected a comma or the end of the object"
                                 : "expected a comma or the end of the array");
    }
    r->p++;
    close_container(r, at, count);
    return 0;
}

static int value(reader_t *r) {
    skip_ws(r);
    if (r->p >= r->end) return fail(r, "unexpected end of the text");
    int rc;
    switch (*r->p) {
    case '{':
    case '[':
        if (++r->depth > MAX_DEPTH) return fail(r, "nested deeper than 32 levels");
        rc = container(r, *r->p == '{');
        r->depth--;
        return rc;
    case '"':
        return string(r);
    case 't':
        return literal(r, "true", 4) ? -1 : (vd_mp_bool(r->sb, 1), 0);
    case 'f':
        return literal(r, "false", 5) ? -1 : (vd_mp_bool(r->sb, 0), 0);
    case 'n':
        return literal(r, "null", 4) ? -1 : (vd_mp_nil(r->sb), 0);
    default:
        if (*r->p != '-' && (*r->p < '0' || *r->p > '9'))
            return fail(r, "unexpected character (expected a JSON value)");
        return number(r);
    }
}

int vd_json_to_mp(msgpack_sbuffer *sb, const char *text, size_t n, size_t *err_at,
                  const char **why) {
    reader_t r = {.s = text, .end = text + n, .p = text, .sb = sb};
    size_t before = sb->size;
    /* Reserved once: msgpack is never more than 3 times the JSON it came from (1.5 becomes 9
     * bytes; [] 5), so no write below can fail. */
    if (n > (SIZE_MAX - 16) / 3 || vd_mp_reserve(sb, 3 * n + 16) != 0) {
        *err_at = 0;
        *why = "out of memory";
        return -1;
    }
    int rc = value(&r);
    if (rc == 0) {
        skip_ws(&r);
        if (r.p != r.end) rc = fail(&r, "text after the JSON value");
    }
    if (rc != 0) {
        *err_at = (size_t)(r.p - text);
        *why = r.why;
        sb->size = before;
    }
    return rc;
}
