#include "escape.h"

#include "base/utf8.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define REPLACEMENT "\xef\xbf\xbd"

/* The code point of the valid character s[0..len). */
static uint32_t code_point(const unsigned char *s, size_t len) {
    if (len == 1) return s[0];
    uint32_t c = s[0] & (0xff >> (len + 1));
    for (size_t i = 1; i < len; i++)
        c = (c << 6) | (s[i] & 0x3f);
    return c;
}

/* Calls put for each character of s[0..n) with its code point and bytes; a byte sequence that
 * is not UTF-8 is written as U+FFFD (one for each maximal subpart). */
static void each_char(FILE *out, const char *s, size_t n,
                      void (*put)(FILE *out, uint32_t c, const char *bytes, size_t len)) {
    for (size_t i = 0; i < n;) {
        size_t seen, len = vd_utf8_char(s + i, n - i, &seen);
        if (!len) {
            fputs(REPLACEMENT, out);
            i += seen;
            continue;
        }
        put(out, code_point((const unsigned char *)s + i, len), s + i, len);
        i += len;
    }
}

static void json_char(FILE *out, uint32_t c, const char *bytes, size_t len) {
    switch (c) {
    case '"':
        fputs("\\\"", out);
        break;
    case '\\':
        fputs("\\\\", out);
        break;
    case '\n':
        fputs("\\n", out);
        break;
    case '\r':
        fputs("\\r", out);
        break;
    case '\t':
        fputs("\\t", out);
        break;
    default:
        if (c < 0x20 || c == 0x7f || c == 0x2028 || c == 0x2029)
            fprintf(out, "\\u%04x", (unsigned)c);
        else
            fwrite(bytes, 1, len, out);
    }
}

void vd_esc_json(FILE *out, const char *s, size_t n) {
    fputc('"', out);
    each_char(out, s, n, json_char);
    fputc('"', out);
}

static void html_char(FILE *out, uint32_t c, const char *bytes, size_t len) {
    switch (c) {
    case '&':
        fputs("&amp;", out);
        break;
    case '<':
        fputs("&lt;", out);
        break;
    case '>':
        fputs("&gt;", out);
        break;
    case '"':
        fputs("&quot;", out);
        break;
    case '\'':
        fputs("&#39;", out);
        break;
    case '\t':
    case '\n':
        fputc((int)c, out);
        break;
    default:
        if (c < 0x20 || c == 0x7f || (c >= 0x80 && c < 0xa0) || c == 0xfffe || c == 0xffff)
            fputs(REPLACEMENT, out);
        else
            fwrite(bytes, 1, len, out);
    }
}

void vd_esc_html(FILE *out, const char *s, size_t n) {
    each_char(out, s, n, html_char);
}

/* Appends one escaped character (or the bytes of a valid one) to out; returns its length. */
static size_t text_char(const char *s, size_t n, char *out) {
    size_t seen, len = vd_utf8_char(s, n, &seen);
    if (!len) {
        /* One \xNN per byte of the bad subpart, so that nothing is hidden. */
        for (size_t i = 0; i < seen; i++)
            sprintf(out + 4 * i, "\\x%02x", (unsigned char)s[i]);
        return 4 * seen;
    }
    uint32_t c = code_point((const unsigned char *)s, len);
    if (c < 0x20 || c == 0x7f) return (size_t)sprintf(out, "\\x%02x", (unsigned)c);
    if (c >= 0x80 && c < 0xa0) return (size_t)sprintf(out, "\\u%04x", (unsigned)c);
    if (c == '\\') return (size_t)sprintf(out, "\\\\");
    memcpy(out, s, len);
    return len;
}

char *vd_esc_text(const char *s, size_t n, size_t max) {
    /* A character grows to at most 4 bytes per input byte (\xNN), or 6 for \u00NN from 2. */
    char *out = malloc(4 * n + 4);
    if (!out) return NULL;
    size_t o = 0, chars = 0;
    for (size_t i = 0; i < n;) {
        char one[32];
        size_t seen, len = vd_utf8_char(s + i, n - i, &seen);
        size_t in = len ? len : seen, w = text_char(s + i, n - i, one);
        size_t cw = len ? 1 : 4 * seen;
        if (len) {
            uint32_t c = code_point((const unsigned char *)s + i, len);
            cw = c < 0x20 || c == 0x7f ? 4 : (c >= 0x80 && c < 0xa0) ? 6 : c == '\\' ? 2 : 1;
        }
        if (max && chars + cw + (i + in < n) > max) {
            out[o++] = '~';
            break;
        }
        memcpy(out + o, one, w);
        o += w;
        chars += cw;
        i += in;
    }
    out[o] = '\0';
    return out;
}

size_t vd_text_width(const char *s) {
    size_t w = 0;
    for (; *s; s++)
        w += ((unsigned char)*s & 0xc0) != 0x80;
    return w;
}
