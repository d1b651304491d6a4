#include "log_scan.h"

#include "base/utf8.h"
#include "log_time.h"

#include <stdlib.h>
#include <string.h>

typedef struct scan {
    const char *p, *end, *start;
    vd_log_rec_t *rec;
    int depth;
} scan_t;

typedef int (*member_fn)(scan_t *s, vd_log_str_t key, void *ctx);
typedef int (*item_fn)(scan_t *s, void *ctx);

/* Bytes a string may hold as they are: not '"', '\\', a control or the start of a multibyte
 * character. The common case, so it is a table lookup. */
/* clang-format off */
static const unsigned char plain[256] = {
#define R16(v) v, v, v, v, v, v, v, v, v, v, v, v, v, v, v, v
    R16(0), R16(0),
    1,      1,      0, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, /* 0x20: '"' */
    R16(1), R16(1),
    1,      1,      1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 1, 1, 1, /* 0x50: '\\' */
    R16(1), R16(1),
    R16(0), R16(0), R16(0), R16(0), R16(0), R16(0), R16(0), R16(0),
#undef R16
};
/* clang-format on */

static int fail(scan_t *s, const char *why) {
    if (!s->rec->error) {
        s->rec->error = why;
        s->rec->error_at = (size_t)(s->p - s->start);
    }
    return -1;
}

static void ws(scan_t *s) {
    while (s->p < s->end && (*s->p == ' ' || *s->p == '\n' || *s->p == '\r' || *s->p == '\t'))
        s->p++;
}

static int at(const scan_t *s, char c) {
    return s->p < s->end && *s->p == c;
}

static int hex4(const char *p, unsigned *v) {
    *v = 0;
    for (int i = 0; i < 4; i++) {
        char c = p[i];
        int d = c >= '0' && c <= '9'   ? c - '0'
                : c >= 'a' && c <= 'f' ? c - 'a' + 10
                : c >= 'A' && c <= 'F' ? c - 'A' + 10
                                       : -1;
        if (d < 0) return -1;
        *v = *v << 4 | (unsigned)d;
    }
    return 0;
}

/* Checks the escape at p ('\\'); returns its length, 0 when it is not valid. A \u escape of a
 * high surrogate must be followed by one of a low surrogate, as JSON text is UTF-16 there. */
static size_t escape_len(const char *p, const char *end) {
    if (end - p < 2) return 0;
    if (p[1] && strchr("\"\\/bfnrt", p[1])) return 2;
    unsigned u, lo;
    if (p[1] != 'u' || end - p < 6 || hex4(p + 2, &u)) return 0;
    if (u >= 0xdc00 && u <= 0xdfff) return 0;
    if (u < 0xd800 || u > 0xdbff) return 6;
    if (end - p < 12 || p[6] != '\\' || p[7] != 'u' || hex4(p + 8, &lo)) return 0;
    return lo >= 0xdc00 && lo <= 0xdfff ? 12 : 0;
}

static char *put_utf8(char *w, unsigned c) {
    if (c < 0x80) {
        *w++ = (char)c;
    } else if (c < 0x800) {
        *w++ = (char)(0xc0 | c >> 6);
        *w++ = (char)(0x80 | (c & 0x3f));
    } else if (c < 0x10000) {
        *w++ = (char)(0xe0 | c >> 12);
        *w++ = (char)(0x80 | (c >> 6 & 0x3f));
        *w++ = (char)(0x80 | (c & 0x3f));
    } else {
        *w++ = (char)(0xf0 | c >> 18);
        *w++ = (char)(0x80 | (c >> 12 & 0x3f));
        *w++ = (char)(0x80 | (c >> 6 & 0x3f));
        *w++ = (char)(0x80 | (c & 0x3f));
    }
    return w;
}

/* Decodes the checked string body p[0..n) into the scratch space. */
static vd_log_str_t decode(vd_log_rec_t *rec, const char *p, size_t n) {
    char *w = rec->scratch + rec->scratch_len, *begin = w;
    const char *end = p + n;
    while (p < end) {
        if (*p != '\\') {
            *w++ = *p++;
            continue;
        }
        static const char from[] = "\"\\/bfnrt", to[] = "\"\\/\b\f\n\r\t";
        const char *k = p[1] != 'u' ? strchr(from, p[1]) : NULL;
        if (k) {
            *w++ = to[k - from];
            p += 2;
            continue;
        }
        unsigned u, lo;
        hex4(p + 2, &u);
        p += 6;
        if (u >= 0xd800 && u <= 0xdbff) {
            hex4(p + 2, &lo);
            u = 0x10000 + ((u - 0xd800) << 10) + (lo - 0xdc00);
            p += 6;
        }
        w = put_utf8(w, u);
    }
    rec->scratch_len += (size_t)(w - begin);
    return (vd_log_str_t){begin, (size_t)(w - begin)};
}

/* A string at s->p ('"'): checked, and decoded into *out unless out is NULL. */
static int string(scan_t *s, vd_log_str_t *out) {
    const unsigned char *p = (const unsigned char *)s->p + 1;
    const unsigned char *end = (const unsigned char *)s->end, *body = p;
    int escaped = 0;
    for (;;) {
        while (end - p >= 4 && plain[p[0]] && plain[p[1]] && plain[p[2]] && plain[p[3]])
            p += 4;
        while (p < end && plain[*p])
            p++;
        s->p = (const char *)p;
        if (p >= end) return fail(s, "a string is not closed");
        if (*p == '"') break;
        size_t n, seen;
        if (*p == '\\') {
            n = escape_len((const char *)p, s->end);
            if (!n) return fail(s, "invalid escape in a string");
            escaped = 1;
        } else if (*p < 0x20) {
            return fail(s, "control character in a string");
        } else if (!(n = vd_utf8_char((const char *)p, (size_t)(end - p), &seen))) {
            return fail(s, "invalid UTF-8 in a string");
        }
        p += n;
    }
    s->p++;
    if (out) {
        size_t n = (size_t)(p - body);
        *out =
            escaped ? decode(s->rec, (const char *)body, n) : (vd_log_str_t){(const char *)body, n};
    }
    return 0;
}

static int digits(scan_t *s) {
    const char *p = s->p;
    while (s->p < s->end && *s->p >= '0' && *s->p <= '9')
        s->p++;
    return s->p > p ? 0 : fail(s, "invalid number");
}

static int number(scan_t *s) {
    if (at(s, '-')) s->p++;
    if (at(s, '0'))
        s->p++;
    else if (s->p >= s->end || *s->p < '1' || *s->p > '9' || digits(s))
        return fail(s, "invalid number");
    if (at(s, '.')) {
        s->p++;
        if (digits(s)) return -1;
    }
    if (at(s, 'e') || at(s, 'E')) {
        s->p++;
        if (at(s, '+') || at(s, '-')) s->p++;
        if (digits(s)) return -1;
    }
    return 0;
}

static int literal(scan_t *s, const char *word, size_t n) {
    if ((size_t)(s->end - s->p) < n || memcmp(s->p, word, n) != 0)
        return fail(s, "unexpected character");
    s->p += n;
    return 0;
}

static int object(scan_t *s, member_fn fn, void *ctx);
static int array(scan_t *s, item_fn fn, void *ctx);

/* Any value, checked and skipped. */
static int value(scan_t *s) {
    if (s->p >= s->end) return fail(s, "the line ends inside a value");
    switch (*s->p) {
    case '"':
        return string(s, NULL);
    case '{':
        return object(s, NULL, NULL);
    case '[':
        return array(s, NULL, NULL);
    case 't':
        return literal(s, "true", 4);
    case 'f':
        return literal(s, "false", 5);
    case 'n':
        return literal(s, "null", 4);
    default:
        return number(s);
    }
}

static int enter(scan_t *s) {
    if (++s->depth > VD_LOG_MAX_DEPTH) return fail(s, "nested too deep");
    s->p++;
    ws(s);
    return 0;
}

static int object(scan_t *s, member_fn fn, void *ctx) {
    if (enter(s)) return -1;
    if (at(s, '}')) {
        s->p++;
        s->depth--;
        return 0;
    }
    for (;;) {
        vd_log_str_t key;
        if (!at(s, '"')) return fail(s, "expected a string key");
        if (string(s, fn ? &key : NULL)) return -1;
        ws(s);
        if (!at(s, ':')) return fail(s, "expected ':'");
        s->p++;
        ws(s);
        if (fn ? fn(s, key, ctx) : value(s)) return -1;
        ws(s);
        if (at(s, '}')) break;
        if (!at(s, ',')) return fail(s, "expected ',' or '}'");
        s->p++;
        ws(s);
    }
    s->p++;
    s->depth--;
    return 0;
}

static int array(scan_t *s, item_fn fn, void *ctx) {
    if (enter(s)) return -1;
    if (at(s, ']')) {
        s->p++;
        s->depth--;
        return 0;
    }
    for (;;) {
        if (fn ? fn(s, ctx) : value(s)) return -1;
        ws(s);
        if (at(s, ']')) break;
        if (!at(s, ',')) return fail(s, "expected ',' or ']'");
        s->p++;
        ws(s);
    }
    s->p++;
    s->depth--;
    return 0;
}

int vd_log_str_eq(vd_log_str_t s, const char *name, size_t n) {
    return s.p && s.n == n && memcmp(s.p, name, n) == 0;
}

#define KEY_IS(key, lit) vd_log_str_eq(key, lit, sizeof(lit) - 1)

/* A string value into *out; any other value is skipped and leaves *out absent. */
static int str_field(scan_t *s, vd_log_str_t *out) {
    *out = (vd_log_str_t){NULL, 0};
    return at(s, '"') ? string(s, out) : value(s);
}

static void drop_rules(vd_log_rec_t *rec, vd_log_rule_from_t from) {
    size_t k = 0;
    for (size_t i = 0; i < rec->nrules; i++)
        if (rec->rules[i].from != from) rec->rules[k++] = rec->rules[i];
    rec->nrules = k;
}

static int add_rule(scan_t *s, vd_log_str_t name, vd_log_rule_from_t from) {
    vd_log_rec_t *rec = s->rec;
    if (rec->nrules == rec->rules_cap) {
        size_t cap = rec->rules_cap ? rec->rules_cap * 2 : 16;
        vd_log_rule_t *more = realloc(rec->rules, cap * sizeof *more);
        if (!more) return fail(s, "out of memory");
        rec->rules = more;
        rec->rules_cap = cap;
    }
    rec->rules[rec->nrules++] = (vd_log_rule_t){name, from};
    return 0;
}

/* A reason or a stopped_by map: its "rule" (the last one, when repeated) names a fired rule.
 * Nothing else is added to the list while it is read, so its rule is the last entry. */
typedef struct rule_ctx {
    vd_log_rule_from_t from;
    int added;
} rule_ctx_t;

static int rule_member(scan_t *s, vd_log_str_t key, void *ctx) {
    rule_ctx_t *rc = ctx;
    if (!KEY_IS(key, "rule")) return value(s);
    if (rc->added) s->rec->nrules--;
    rc->added = 0;
    vd_log_str_t name;
    if (str_field(s, &name)) return -1;
    if (!name.p) return 0;
    rc->added = 1;
    return add_rule(s, name, rc->from);
}

static int rule_map(scan_t *s, vd_log_rule_from_t from) {
    rule_ctx_t rc = {from, 0};
    return at(s, '{') ? object(s, rule_member, &rc) : value(s);
}

static int reason_item(scan_t *s, void *ctx) {
    return rule_map(s, *(vd_log_rule_from_t *)ctx);
}

static int reasons(scan_t *s, vd_log_rule_from_t from) {
    drop_rules(s->rec, from);
    return at(s, '[') ? array(s, reason_item, &from) : value(s);
}

static int stopped_by(scan_t *s, vd_log_rule_from_t from) {
    drop_rules(s->rec, from);
    return rule_map(s, from);
}

static int shadow_member(scan_t *s, vd_log_str_t key, void *ctx) {
    (void)ctx;
    if (KEY_IS(key, "action")) return str_field(s, &s->rec->shadow_action);
    if (KEY_IS(key, "reasons")) return reasons(s, VD_LOG_SHADOW_REASON);
    if (KEY_IS(key, "stopped_by")) return stopped_by(s, VD_LOG_SHADOW_STOP);
    return value(s);
}

static int shadow(scan_t *s) {
    vd_log_rec_t *rec = s->rec;
    rec->has_shadow = at(s, '{');
    rec->shadow_action = (vd_log_str_t){NULL, 0};
    drop_rules(rec, VD_LOG_SHADOW_REASON);
    drop_rules(rec, VD_LOG_SHADOW_STOP);
    return rec->has_shadow ? object(s, shadow_member, NULL) : value(s);
}

static int decision_member(scan_t *s, vd_log_str_t key, void *ctx) {
    (void)ctx;
    vd_log_rec_t *rec = s->rec;
    if (KEY_IS(key, "action")) return str_field(s, &rec->action);
    if (KEY_IS(key, "pipeline")) return str_field(s, &rec->pipeline);
    if (KEY_IS(key, "reasons")) return reasons(s, VD_LOG_LIVE_REASON);
    if (KEY_IS(key, "stopped_by")) return stopped_by(s, VD_LOG_LIVE_STOP);
    if (KEY_IS(key, "shadow")) return shadow(s);
    return value(s);
}

static void clear_decision(vd_log_rec_t *rec) {
    rec->has_decision = rec->has_shadow = 0;
    rec->action = rec->pipeline = rec->shadow_action = (vd_log_str_t){NULL, 0};
    rec->nrules = 0;
}

static int top_member(scan_t *s, vd_log_str_t key, void *ctx) {
    vd_log_rec_t *rec = s->rec;
    (void)ctx;
    if (KEY_IS(key, "type")) return str_field(s, &rec->type);
    if (KEY_IS(key, "id")) return str_field(s, &rec->id);
    if (KEY_IS(key, "time")) return str_field(s, &rec->time);
    if (KEY_IS(key, "decision_id")) return str_field(s, &rec->decision_id);
    /* a report line names its pipeline at the top; a decision record inside "decision" */
    if (KEY_IS(key, "pipeline") && !rec->has_decision) return str_field(s, &rec->pipeline);
    if (!KEY_IS(key, "decision")) return value(s);
    clear_decision(rec);
    rec->has_decision = at(s, '{');
    return rec->has_decision ? object(s, decision_member, NULL) : value(s);
}

int vd_log_scan(vd_log_rec_t *rec, const char *line, size_t len) {
    rec->type = rec->id = rec->time = rec->decision_id = (vd_log_str_t){NULL, 0};
    clear_decision(rec);
    rec->error = NULL;
    rec->error_at = 0;
    rec->scratch_len = 0;
    scan_t s = {line, line + len, line, rec, 0};
    if (rec->scratch_cap < len) { /* decoded strings are never longer than their text */
        char *more = realloc(rec->scratch, len);
        if (!more) return fail(&s, "out of memory");
        rec->scratch = more;
        rec->scratch_cap = len;
    }
    ws(&s);
    if (!at(&s, '{')) return fail(&s, "not a JSON object");
    if (object(&s, top_member, NULL)) return -1;
    ws(&s);
    return s.p == s.end ? 0 : fail(&s, "text after the object");
}

const char *vd_log_rec_check(vd_log_rec_t *rec) {
    if (rec->type.p) { /* its time, when it has one a filter can read */
        rec->has_time =
            rec->time.p && vd_log_time_parse(rec->time.p, rec->time.n, &rec->time_ms) == 0;
        return NULL;
    }
    rec->has_time = 1;
    if (!rec->id.p) return "no \"id\" string";
    if (!rec->time.p) return "no \"time\" string";
    if (vd_log_time_parse(rec->time.p, rec->time.n, &rec->time_ms) != 0)
        return "\"time\" is not an RFC 3339 time";
    if (!rec->has_decision) return "no \"decision\" object";
    if (!rec->action.p) return "no \"decision.action\" string";
    if (!rec->pipeline.p) return "no \"decision.pipeline\" string";
    return NULL;
}

void vd_log_rec_free(vd_log_rec_t *rec) {
    free(rec->rules);
    free(rec->scratch);
    *rec = (vd_log_rec_t){0};
}
