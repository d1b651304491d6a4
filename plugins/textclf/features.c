#include "features.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <xxhash.h>

#define TOKEN_MIN 2
#define TOKEN_MAX 40

static const char *const header_fields[] = {"subject",  "from",       "reply-to",     "to",
                                            "x-mailer", "user-agent", "content-type", NULL};

static unsigned char lower(unsigned char c) {
    return c >= 'A' && c <= 'Z' ? (unsigned char)(c + 32) : c;
}

static int word_byte(unsigned char c) {
    return (c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c >= 0x80;
}

static int is_alnum(unsigned char c) {
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

/* Case-insensitive (ASCII) search of lit in s from i; -1 when absent. */
static long find_ci(const unsigned char *s, size_t n, size_t from, const char *lit) {
    size_t k = strlen(lit);
    for (size_t i = from; i + k <= n; i++) {
        size_t j = 0;
        while (j < k && lower(s[i + j]) == (unsigned char)lit[j])
            j++;
        if (j == k) return (long)i;
    }
    return -1;
}

static void put_utf8(tc_buf_t *out, long cp) {
    if (cp <= 0 || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return;
    if (cp < 0x80) {
        tc_putc(out, (unsigned char)cp);
    } else if (cp < 0x800) {
        tc_putc(out, (unsigned char)(0xC0 | (cp >> 6)));
        tc_putc(out, (unsigned char)(0x80 | (cp & 0x3F)));
    } else if (cp < 0x10000) {
        tc_putc(out, (unsigned char)(0xE0 | (cp >> 12)));
        tc_putc(out, (unsigned char)(0x80 | ((cp >> 6) & 0x3F)));
        tc_putc(out, (unsigned char)(0x80 | (cp & 0x3F)));
    } else {
        tc_putc(out, (unsigned char)(0xF0 | (cp >> 18)));
        tc_putc(out, (unsigned char)(0x80 | ((cp >> 12) & 0x3F)));
        tc_putc(out, (unsigned char)(0x80 | ((cp >> 6) & 0x3F)));
        tc_putc(out, (unsigned char)(0x80 | (cp & 0x3F)));
    }
}

/* True when lit (lower case) stands at s[i], ignoring ASCII case. */
static int at_ci(const unsigned char *s, size_t n, size_t i, const char *lit) {
    size_t k = strlen(lit);
    if (i + k > n) return 0;
    for (size_t j = 0; j < k; j++)
        if (lower(s[i + j]) != (unsigned char)lit[j]) return 0;
    return 1;
}

/* The entity at s[i] == '&': its length (0 when there is none); its text goes to out. */
static size_t entity(const unsigned char *s, size_t n, size_t i, tc_buf_t *out) {
    static const struct {
        const char *name, *text;
    } named[] = {{"amp", "&"},  {"lt", "<"},   {"gt", ">"}, {"quot", "\""},
                 {"apos", "'"}, {"nbsp", " "}, {NULL, NULL}};
    size_t semi = i + 1;
    while (semi < n && semi < i + 12 && s[semi] != ';')
        semi++;
    if (semi >= n || semi >= i + 12) return 0;
    const unsigned char *name = s + i + 1;
    size_t len = semi - i - 1;
    if (len >= 3 && name[0] == '#' && (name[1] == 'x' || name[1] == 'X') && len - 2 <= 6) {
        long cp = 0;
        for (size_t k = 2; k < len; k++) {
            if (!isxdigit(name[k])) return 0;
            cp = cp * 16 + (isdigit(name[k]) ? name[k] - '0' : lower(name[k]) - 'a' + 10);
        }
        put_utf8(out, cp);
        return semi - i + 1;
    }
    if (len >= 2 && name[0] == '#' && len - 1 <= 7) {
        long cp = 0;
        for (size_t k = 1; k < len; k++) {
            if (!isdigit(name[k])) return 0;
            cp = cp * 10 + (name[k] - '0');
        }
        put_utf8(out, cp);
        return semi - i + 1;
    }
    for (int k = 0; named[k].name; k++) {
        if (strlen(named[k].name) == len && memcmp(named[k].name, name, len) == 0) {
            tc_put(out, named[k].text, strlen(named[k].text));
            return semi - i + 1;
        }
    }
    return 0;
}

/* After "<script" or "<style" at i: past the closing tag's '>', or the end. */
static size_t skip_block(const unsigned char *s, size_t n, size_t i, const char *close) {
    long c = find_ci(s, n, i, close);
    if (c < 0) return n;
    const unsigned char *gt = memchr(s + c, '>', n - (size_t)c);
    return gt ? (size_t)(gt - s) + 1 : n;
}

void tc_strip_html(const unsigned char *s, size_t n, tc_buf_t *out) {
    /* Once no '>' follows some point, none follows any later '<' either: remembering that
     * keeps a run of unclosed '<' linear instead of one scan to the end per '<'. */
    int no_gt = 0;
    for (size_t i = 0; i < n;) {
        if (s[i] == '<') {
            if (at_ci(s, n, i, "<!--")) {
                long end = find_ci(s, n, i + 4, "-->");
                i = end < 0 ? n : (size_t)end + 3;
                tc_putc(out, ' ');
                continue;
            }
            const char *close = NULL;
            if (at_ci(s, n, i + 1, "script") && (i + 7 >= n || !is_alnum(s[i + 7])))
                close = "</script";
            else if (at_ci(s, n, i + 1, "style") && (i + 6 >= n || !is_alnum(s[i + 6])))
                close = "</style";
            if (close) {
                i = skip_block(s, n, i, close);
                tc_putc(out, ' ');
                continue;
            }
            const unsigned char *gt = no_gt ? NULL : memchr(s + i + 1, '>', n - i - 1);
            no_gt = !gt;
            if (gt) {
                i = (size_t)(gt - s) + 1;
                tc_putc(out, ' ');
                continue;
            }
        } else if (s[i] == '&') {
            size_t len = entity(s, n, i, out);
            if (len) {
                i += len;
                continue;
            }
        }
        tc_putc(out, s[i++]);
    }
}

/* ---- the feature set, as hash buckets ---- */

typedef struct buckets {
    uint32_t *b;
    size_t n, cap;
    unsigned bits;
    uint64_t seed;
    int oom;
} buckets_t;

static void add(buckets_t *bk, const char *prefix, const unsigned char *s, size_t n) {
    unsigned char buf[512];
    size_t pl = strlen(prefix);
    if (pl + n > sizeof buf) return; /* tokens are short; header names are bounded below */
    memcpy(buf, prefix, pl);
    memcpy(buf + pl, s, n);
    if (bk->n == bk->cap) {
        size_t cap = bk->cap ? bk->cap * 2 : 256;
        uint32_t *b = realloc(bk->b, cap * sizeof *b);
        if (!b) {
            bk->oom = 1;
            return;
        }
        bk->b = b;
        bk->cap = cap;
    }
    uint64_t h = XXH3_64bits_withSeed(buf, pl + n, bk->seed);
    bk->b[bk->n++] = (uint32_t)(h & ((1ULL << bk->bits) - 1));
}

static void add_tokens(buckets_t *bk, const char *prefix, const unsigned char *s, size_t n) {
    unsigned char tok[TOKEN_MAX];
    size_t start = 0;
    int in = 0;
    for (size_t i = 0; i <= n; i++) {
        int w = i < n && word_byte(s[i]);
        if (w && !in)
            start = i, in = 1;
        else if (!w && in) {
            size_t len = i - start;
            if (len >= TOKEN_MIN && len <= TOKEN_MAX) {
                for (size_t k = 0; k < len; k++)
                    tok[k] = lower(s[start + k]);
                add(bk, prefix, tok, len);
            }
            in = 0;
        }
    }
}

void tc_url_hosts(const unsigned char *s, size_t n, tc_buf_t *out) {
    for (size_t i = 0;;) {
        long at = find_ci(s, n, i, "http");
        if (at < 0) return;
        size_t j = (size_t)at + 4;
        if (j < n && lower(s[j]) == 's') j++;
        if (j + 3 <= n && memcmp(s + j, "://", 3) == 0) {
            j += 3;
            size_t k = j;
            while (k < n && (is_alnum(s[k]) || s[k] == '.' || s[k] == '-'))
                k++;
            if (k > j && k - j <= 256) {
                for (size_t m = j; m < k; m++)
                    tc_putc(out, lower(s[m]));
                tc_putc(out, '\0');
            }
            i = k;
        } else {
            i = j;
        }
    }
}

static void add_url_hosts(buckets_t *bk, const unsigned char *s, size_t n) {
    tc_buf_t hosts = {0};
    tc_url_hosts(s, n, &hosts);
    for (size_t i = 0; i < hosts.len;) {
        size_t len = strlen((const char *)hosts.p + i);
        add(bk, "u:", hosts.p + i, len);
        i += len + 1;
    }
    bk->oom |= hosts.oom;
    tc_free(&hosts);
}

static int by_value(const void *a, const void *b) {
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return (x > y) - (x < y);
}

static int is_header_field(const char *name) {
    for (const char *const *f = header_fields; *f; f++)
        if (strcmp(*f, name) == 0) return 1;
    return 0;
}

static void add_headers(buckets_t *bk, const tc_pieces_t *pc) {
    for (size_t i = 0; i < pc->nheaders; i++) {
        const tc_header_t *h = &pc->headers[i];
        size_t nl = strlen(h->name);
        if (nl > 200) continue;
        add(bk, "p:", (const unsigned char *)h->name, nl);
        if (!is_header_field(h->name)) continue;
        char prefix[220];
        snprintf(prefix, sizeof prefix, "h:%s:", h->name);
        add_tokens(bk, prefix, h->value.p, h->value.len);
    }
}

int tc_pieces_buckets(const tc_pieces_t *pc, unsigned bits, uint64_t seed, uint32_t **out,
                      size_t *count) {
    buckets_t bk = {.bits = bits, .seed = seed};
    add_headers(&bk, pc);
    size_t total = 0;
    for (size_t i = 0; i < pc->ntexts; i++) {
        const tc_text_t *t = &pc->texts[i];
        add_url_hosts(&bk, t->text.p, t->text.len);
        tc_buf_t plain = {0};
        const unsigned char *s = t->text.p;
        size_t n = t->text.len;
        if (t->html) {
            tc_strip_html(t->text.p, t->text.len, &plain);
            s = plain.p;
            n = plain.len;
            bk.oom |= plain.oom;
            add(&bk, "", (const unsigned char *)"t:html", 6);
        }
        total += n;
        add_tokens(&bk, "b:", s, n);
        tc_free(&plain);
    }
    for (size_t i = 0; i < pc->ntypes; i++)
        add(&bk, "t:", (const unsigned char *)pc->types[i], strlen(pc->types[i]));
    char lbuf[32];
    int bitlen = 0;
    for (size_t t = total; t; t >>= 1)
        bitlen++;
    snprintf(lbuf, sizeof lbuf, "l:%d", bitlen);
    add(&bk, "", (const unsigned char *)lbuf, strlen(lbuf));
    if (bk.oom) {
        free(bk.b);
        return -1;
    }
    qsort(bk.b, bk.n, sizeof *bk.b, by_value);
    size_t w = 0;
    for (size_t r = 0; r < bk.n; r++)
        if (w == 0 || bk.b[w - 1] != bk.b[r]) bk.b[w++] = bk.b[r];
    *out = bk.b;
    *count = w;
    return 0;
}

int tc_message_buckets(const unsigned char *raw, size_t len, unsigned bits, uint64_t seed,
                       uint32_t **out, size_t *count) {
    tc_pieces_t pc;
    int rc = tc_parse(raw, len, &pc);
    if (rc == 0) rc = tc_pieces_buckets(&pc, bits, seed, out, count);
    tc_pieces_free(&pc);
    return rc;
}
