#include "message.h"

#include <ctype.h>
#include <strings.h>

#define MAX_DEPTH 8
#define MAX_PARTS 64

typedef struct slice {
    const unsigned char *p;
    size_t n;
} slice_t;

typedef struct headers {
    tc_header_t *items;
    size_t n, cap;
    int oom;
} headers_t;

static int is_ws(unsigned char c) {
    return c == ' ' || c == '\t';
}

static slice_t strip(slice_t s) {
    while (s.n && is_ws(s.p[0]))
        s.p++, s.n--;
    while (s.n && is_ws(s.p[s.n - 1]))
        s.n--;
    return s;
}

static int starts(slice_t s, size_t at, const char *lit) {
    size_t k = strlen(lit);
    return at + k <= s.n && memcmp(s.p + at, lit, k) == 0;
}

static long find(slice_t s, size_t from, const char *lit) {
    size_t k = strlen(lit);
    for (size_t i = from; i + k <= s.n; i++)
        if (memcmp(s.p + i, lit, k) == 0) return (long)i;
    return -1;
}

static void headers_free(headers_t *h) {
    for (size_t i = 0; i < h->n; i++) {
        free(h->items[i].name);
        tc_free(&h->items[i].value);
    }
    free(h->items);
    memset(h, 0, sizeof *h);
}

static tc_header_t *headers_add(headers_t *h, slice_t name) {
    if (h->n == h->cap) {
        size_t cap = h->cap ? h->cap * 2 : 16;
        tc_header_t *items = realloc(h->items, cap * sizeof *items);
        if (!items) return h->oom = 1, NULL;
        h->items = items;
        h->cap = cap;
    }
    tc_header_t *x = &h->items[h->n];
    memset(x, 0, sizeof *x);
    if (!(x->name = malloc(name.n + 1))) return h->oom = 1, NULL;
    for (size_t i = 0; i < name.n; i++)
        x->name[i] = (char)tolower(name.p[i]);
    x->name[name.n] = '\0';
    h->n++;
    return x;
}

/* One header line: a continuation of the previous header, or "name: value". */
static void header_line(headers_t *h, slice_t line) {
    if (line.n && is_ws(line.p[0]) && h->n) {
        tc_buf_t *v = &h->items[h->n - 1].value;
        slice_t rest = strip(line);
        tc_putc(v, ' ');
        tc_put(v, rest.p, rest.n);
        return;
    }
    const unsigned char *colon = memchr(line.p, ':', line.n);
    if (!colon || colon == line.p) return;
    slice_t name = strip((slice_t){line.p, (size_t)(colon - line.p)});
    slice_t value = strip((slice_t){colon + 1, line.n - (size_t)(colon - line.p) - 1});
    tc_header_t *x = headers_add(h, name);
    if (x) tc_put(&x->value, value.p, value.n);
}

/* CRLF to LF, the mbox "From " line dropped, then headers and body. The body is a slice of
 * norm, which the caller keeps until it is done with it. */
static void split_head_body(slice_t raw, tc_buf_t *norm, headers_t *h, slice_t *body) {
    for (size_t i = 0; i < raw.n; i++)
        if (!(raw.p[i] == '\r' && i + 1 < raw.n && raw.p[i + 1] == '\n')) tc_putc(norm, raw.p[i]);
    slice_t s = {norm->p ? norm->p : (const unsigned char *)"", norm->len};
    if (starts(s, 0, "From ")) {
        const unsigned char *nl = memchr(s.p, '\n', s.n);
        s = nl ? (slice_t){nl + 1, s.n - (size_t)(nl + 1 - s.p)} : (slice_t){s.p, 0};
    }
    if (s.n && s.p[0] == '\n') { /* an empty first line: no headers at all */
        *body = (slice_t){s.p + 1, s.n - 1};
        return;
    }
    long end = find(s, 0, "\n\n");
    slice_t head = end < 0 ? s : (slice_t){s.p, (size_t)end};
    *body = end < 0 ? (slice_t){s.p + s.n, 0} : (slice_t){s.p + end + 2, s.n - (size_t)end - 2};
    size_t start = 0;
    for (size_t i = 0; i <= head.n; i++) {
        if (i == head.n || head.p[i] == '\n') {
            header_line(h, (slice_t){head.p + start, i - start});
            start = i + 1;
        }
    }
}

static slice_t header(const headers_t *h, const char *name) {
    for (size_t i = 0; i < h->n; i++)
        if (strcmp(h->items[i].name, name) == 0 && h->items[i].value.p)
            return (slice_t){h->items[i].value.p, h->items[i].value.len};
        else if (strcmp(h->items[i].name, name) == 0)
            break; /* present but empty */
    return (slice_t){(const unsigned char *)"", 0};
}

static int is_latin1(slice_t cs) {
    static const char *const names[] = {"iso-8859-1",   "latin1", "latin-1", "iso-8859-15",
                                        "windows-1252", "cp1252", NULL};
    for (const char *const *n = names; *n; n++)
        if (strlen(*n) == cs.n && strncasecmp(*n, (const char *)cs.p, cs.n) == 0) return 1;
    return 0;
}

/* Latin-1 family charsets to UTF-8; anything else is kept as it is. */
static void to_utf8(slice_t data, slice_t charset, tc_buf_t *out) {
    if (!is_latin1(charset)) {
        tc_put(out, data.p, data.n);
        return;
    }
    for (size_t i = 0; i < data.n; i++) {
        unsigned char c = data.p[i];
        if (c < 0x80)
            tc_putc(out, c);
        else
            tc_putc(out, (unsigned char)(0xC0 | (c >> 6))),
                tc_putc(out, (unsigned char)(0x80 | (c & 0x3F)));
    }
}

static int b64val(unsigned char c) {
    if (c >= 'A' && c <= 'Z') return c - 'A';
    if (c >= 'a' && c <= 'z') return c - 'a' + 26;
    if (c >= '0' && c <= '9') return c - '0' + 52;
    if (c == '+') return 62;
    if (c == '/') return 63;
    return -1;
}

/* Base64: bytes outside the alphabet skipped, stop at the first '=', a last group of 2 or 3
 * characters gives 1 or 2 bytes, a lone last character is dropped. */
static void b64decode(slice_t in, tc_buf_t *out) {
    unsigned acc = 0;
    int have = 0;
    for (size_t i = 0; i < in.n && in.p[i] != '='; i++) {
        int v = b64val(in.p[i]);
        if (v < 0) continue;
        acc = (acc << 6) | (unsigned)v;
        if (++have == 4) {
            tc_putc(out, (unsigned char)(acc >> 16));
            tc_putc(out, (unsigned char)(acc >> 8));
            tc_putc(out, (unsigned char)acc);
            acc = 0;
            have = 0;
        }
    }
    if (have == 2)
        tc_putc(out, (unsigned char)(acc >> 4));
    else if (have == 3)
        tc_putc(out, (unsigned char)(acc >> 10)), tc_putc(out, (unsigned char)(acc >> 2));
}

static int hexval(unsigned char c) {
    return isxdigit(c) ? (isdigit(c) ? c - '0' : tolower(c) - 'a' + 10) : -1;
}

/* Quoted-printable: =XX escapes and soft line breaks; a malformed '=' stays as it is. */
static void qp_decode(slice_t in, int underscore_space, tc_buf_t *out) {
    for (size_t i = 0; i < in.n;) {
        unsigned char c = in.p[i];
        if (underscore_space && c == '_') c = ' ';
        if (c == '=') {
            if (i + 1 < in.n && in.p[i + 1] == '\n') {
                i += 2;
                continue;
            }
            if (i + 2 < in.n && hexval(in.p[i + 1]) >= 0 && hexval(in.p[i + 2]) >= 0) {
                tc_putc(out, (unsigned char)(hexval(in.p[i + 1]) * 16 + hexval(in.p[i + 2])));
                i += 3;
                continue;
            }
        }
        tc_putc(out, c);
        i++;
    }
}

static int word_char(unsigned char c) { /* neither '?' nor white space */
    return c != '?' && !isspace(c);
}

/* An RFC 2047 encoded word at s[i]: its length, or 0. */
static size_t encoded_word(slice_t s, size_t i, slice_t *cs, unsigned char *enc, slice_t *text) {
    if (!starts(s, i, "=?")) return 0;
    size_t j = i + 2, k;
    for (k = j; k < s.n && word_char(s.p[k]); k++) {
    }
    if (k == j || k + 2 >= s.n || s.p[k] != '?' || !strchr("bBqQ", s.p[k + 1]) || !s.p[k + 1] ||
        s.p[k + 2] != '?')
        return 0;
    *cs = (slice_t){s.p + j, k - j};
    *enc = (unsigned char)tolower(s.p[k + 1]);
    size_t t = k + 3, e;
    for (e = t; e < s.n && word_char(s.p[e]); e++) {
    }
    if (!starts(s, e, "?=")) return 0;
    *text = (slice_t){s.p + t, e - t};
    return e + 2 - i;
}

static void decode_words(slice_t s, tc_buf_t *out) {
    for (size_t i = 0; i < s.n;) {
        slice_t cs, text;
        unsigned char enc;
        size_t n = encoded_word(s, i, &cs, &enc, &text);
        if (!n) {
            tc_putc(out, s.p[i++]);
            continue;
        }
        tc_buf_t raw = {0};
        if (enc == 'b')
            b64decode(text, &raw);
        else
            qp_decode(text, 1, &raw);
        to_utf8((slice_t){raw.p, raw.len}, cs, out);
        out->oom |= raw.oom;
        tc_free(&raw);
        i += n;
    }
}

typedef struct ctype {
    char type[128];
    slice_t boundary, charset;
    int has_boundary;
} ctype_t;

/* "type/subtype; k=v; ..." split naively on ';', as the spec says; the last k wins. */
static void content_type(const headers_t *h, ctype_t *ct) {
    slice_t v = header(h, "content-type");
    memset(ct, 0, sizeof *ct);
    ct->charset = (slice_t){(const unsigned char *)"", 0};
    size_t start = 0, field = 0;
    for (size_t i = 0; i <= v.n; i++) {
        if (i < v.n && v.p[i] != ';') continue;
        slice_t part = {v.p + start, i - start};
        if (field++ == 0) {
            slice_t t = strip(part);
            size_t n = t.n < sizeof ct->type - 1 ? t.n : sizeof ct->type - 1;
            for (size_t k = 0; k < n; k++)
                ct->type[k] = (char)tolower(t.p[k]);
            ct->type[n] = '\0';
        } else {
            const unsigned char *eq = memchr(part.p, '=', part.n);
            if (eq && eq != part.p) {
                slice_t key = strip((slice_t){part.p, (size_t)(eq - part.p)});
                slice_t val = strip((slice_t){eq + 1, part.n - (size_t)(eq - part.p) - 1});
                while (val.n && val.p[0] == '"')
                    val.p++, val.n--;
                while (val.n && val.p[val.n - 1] == '"')
                    val.n--;
                if (key.n == 8 && strncasecmp((const char *)key.p, "boundary", 8) == 0)
                    ct->boundary = val, ct->has_boundary = 1;
                else if (key.n == 7 && strncasecmp((const char *)key.p, "charset", 7) == 0)
                    ct->charset = val;
            }
        }
        start = i + 1;
    }
    if (!ct->type[0]) strcpy(ct->type, "text/plain");
}

static void walk(slice_t raw, tc_pieces_t *pc, int depth, int top);

static void add_part(slice_t part, tc_pieces_t *pc, int depth) {
    walk(part, pc, depth, 0);
}

/* The parts between "--boundary" lines, each walked as it is found. */
static void multipart(slice_t body, slice_t boundary, tc_pieces_t *pc, int depth) {
    tc_buf_t delim = {0};
    tc_put(&delim, "--", 2);
    tc_put(&delim, boundary.p, boundary.n);
    int have = 0;     /* a delimiter opened a part */
    size_t first = 0; /* start of the part's first line */
    size_t last = 0;  /* end of its last line */
    int lines = 0;    /* lines in the part so far */
    size_t start = 0;
    for (size_t i = 0; i <= body.n && !delim.oom; i++) {
        if (i < body.n && body.p[i] != '\n') continue;
        slice_t line = {body.p + start, i - start};
        if (line.n >= delim.len && memcmp(line.p, delim.p, delim.len) == 0) {
            if (have) {
                if (pc->parts >= MAX_PARTS) break;
                add_part((slice_t){body.p + first, lines ? last - first : 0}, pc, depth + 1);
            }
            if (line.n >= delim.len + 2 && line.p[delim.len] == '-' &&
                line.p[delim.len + 1] == '-') {
                tc_free(&delim);
                return;
            }
            have = 1;
            lines = 0;
        } else if (have) {
            if (lines++ == 0) first = start;
            last = i;
        }
        start = i + 1;
    }
    if (have && pc->parts < MAX_PARTS)
        add_part((slice_t){body.p + first, lines ? last - first : 0}, pc, depth + 1);
    tc_free(&delim);
}

static void leaf_text(const headers_t *h, slice_t body, const ctype_t *ct, tc_pieces_t *pc) {
    tc_text_t *grown = realloc(pc->texts, (pc->ntexts + 1) * sizeof *grown);
    if (!grown) {
        pc->oom = 1;
        return;
    }
    pc->texts = grown;
    tc_text_t *t = &pc->texts[pc->ntexts++];
    memset(t, 0, sizeof *t);
    t->html = strcmp(ct->type, "text/html") == 0;
    slice_t cte = header(h, "content-transfer-encoding");
    tc_buf_t decoded = {0};
    if (cte.n == 6 && strncasecmp((const char *)cte.p, "base64", 6) == 0) {
        b64decode(body, &decoded);
        body = (slice_t){decoded.p, decoded.len};
    } else if (cte.n == 16 && strncasecmp((const char *)cte.p, "quoted-printable", 16) == 0) {
        qp_decode(body, 0, &decoded);
        body = (slice_t){decoded.p, decoded.len};
    }
    to_utf8(body, ct->charset, &t->text);
    pc->oom |= decoded.oom | t->text.oom;
    tc_free(&decoded);
}

static void walk(slice_t raw, tc_pieces_t *pc, int depth, int top) {
    tc_buf_t norm = {0};
    headers_t h = {0};
    slice_t body;
    split_head_body(raw, &norm, &h, &body);
    pc->oom |= norm.oom | h.oom;
    if (top) { /* the message's own headers, decoded, are pieces too */
        pc->headers = calloc(h.n ? h.n : 1, sizeof *pc->headers);
        for (size_t i = 0; pc->headers && i < h.n; i++) {
            pc->headers[i].name = strdup(h.items[i].name);
            decode_words((slice_t){h.items[i].value.p, h.items[i].value.len},
                         &pc->headers[i].value);
            pc->nheaders++;
        }
        if (!pc->headers) pc->oom = 1;
    }
    pc->parts++;
    ctype_t ct;
    content_type(&h, &ct);
    if (strncmp(ct.type, "multipart/", 10) == 0 && ct.has_boundary && depth < MAX_DEPTH) {
        multipart(body, ct.boundary, pc, depth);
    } else if (strcmp(ct.type, "text/plain") != 0 && strcmp(ct.type, "text/html") != 0) {
        char **grown = realloc(pc->types, (pc->ntypes + 1) * sizeof *grown);
        if (grown && (grown[pc->ntypes] = strdup(ct.type)))
            pc->types = grown, pc->ntypes++;
        else
            pc->oom = 1, pc->types = grown ? grown : pc->types;
    } else {
        leaf_text(&h, body, &ct, pc);
    }
    headers_free(&h);
    tc_free(&norm);
}

int tc_parse(const unsigned char *raw, size_t len, tc_pieces_t *out) {
    memset(out, 0, sizeof *out);
    walk((slice_t){raw, len}, out, 0, 1);
    return out->oom ? -1 : 0;
}

void tc_pieces_free(tc_pieces_t *p) {
    for (size_t i = 0; i < p->nheaders; i++) {
        free(p->headers[i].name);
        tc_free(&p->headers[i].value);
    }
    free(p->headers);
    for (size_t i = 0; i < p->ntexts; i++)
        tc_free(&p->texts[i].text);
    free(p->texts);
    for (size_t i = 0; i < p->ntypes; i++)
        free(p->types[i]);
    free(p->types);
    memset(p, 0, sizeof *p);
}
