#include "labels.h"

#include "base/error.h"
#include "replay/strmap.h"

#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <jansson.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

struct vd_labels {
    vd_strmap_t keys; /* key -> 1 bad, 0 good */
    size_t bad, good;
    uint64_t relabelled;
};

vd_labels_t *vd_labels_new(void) {
    vd_labels_t *l = calloc(1, sizeof *l);
    if (l) vd_strmap_init(&l->keys);
    return l;
}

void vd_labels_free(vd_labels_t *l) {
    if (!l) return;
    vd_strmap_free(&l->keys);
    free(l);
}

int vd_labels_set(vd_labels_t *l, const char *key, size_t len, int label) {
    if (label != 0 && label != 1) return VD_EINVAL;
    uint32_t *val;
    int rc = vd_strmap_put(&l->keys, key, len, (uint32_t)label, &val, NULL);
    if (rc < 0) return rc;
    if (rc == 0) {
        if (*val == (uint32_t)label) return 0;
        l->relabelled++;
        *(*val ? &l->bad : &l->good) -= 1;
        *val = (uint32_t)label;
    }
    *(label ? &l->bad : &l->good) += 1;
    return 0;
}

int vd_labels_get(const vd_labels_t *l, const char *key, size_t len) {
    const uint32_t *val = vd_strmap_find(&l->keys, key, len);
    return val ? (int)*val : -1;
}

void vd_labels_stats(const vd_labels_t *l, vd_labels_stats_t *out) {
    *out = (vd_labels_stats_t){l->keys.count, l->bad, l->good, l->relabelled};
}

int vd_labels_word(const char *s, size_t len) {
    static const char *const bad[] = {"bad",         "spam",      "fraud",      "abuse",
                                      "abusive",     "malicious", "chargeback", "takeover",
                                      "compromised", "positive",  "1",          "true"};
    static const char *const good[] = {"good",  "ham",      "legit", "legitimate", "benign",
                                       "clean", "negative", "0",     "false"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
        if (strlen(bad[i]) == len && strncasecmp(s, bad[i], len) == 0) return 1;
    for (size_t i = 0; i < sizeof good / sizeof *good; i++)
        if (strlen(good[i]) == len && strncasecmp(s, good[i], len) == 0) return 0;
    return -1;
}

/* Where a line is, for messages. */
typedef struct where {
    const char *name;
    uint64_t line;
    char *err;
    size_t errlen;
} where_t;

static int fail(const where_t *w, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static int fail(const where_t *w, const char *fmt, ...) {
    int n = snprintf(w->err, w->errlen, "%s:%" PRIu64 ": ", w->name, w->line);
    if (n >= 0 && (size_t)n < w->errlen) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(w->err + n, w->errlen - (size_t)n, fmt, ap);
        va_end(ap);
    }
    return VD_EINVAL;
}

#define WORDS_HELP                                                                                 \
    "bad, spam, fraud, abuse, chargeback, takeover, 1, true...; or good, ham, legit, benign, 0, "  \
    "false..."

static int json_label(const where_t *w, const json_t *v) {
    if (json_is_true(v)) return 1;
    if (json_is_false(v)) return 0;
    if (json_is_integer(v) && (json_integer_value(v) == 0 || json_integer_value(v) == 1))
        return (int)json_integer_value(v);
    if (json_is_string(v)) {
        int label = vd_labels_word(json_string_value(v), json_string_length(v));
        if (label >= 0) return label;
        return fail(w, "unknown label \"%.40s\" (%s)", json_string_value(v), WORDS_HELP);
    }
    return fail(w, "\"label\" must be a word, true/false or 1/0 (%s)", WORDS_HELP);
}

static int json_line(vd_labels_t *l, const where_t *w, const char *s, size_t n) {
    json_error_t jerr;
    json_t *o = json_loadb(s, n, JSON_REJECT_DUPLICATES, &jerr);
    if (!o) return fail(w, "not JSON: %s (column %d)", jerr.text, jerr.column);
    int rc;
    json_t *id = json_object_get(o, "id"), *entity = json_object_get(o, "entity");
    json_t *key = id ? id : entity, *label = json_object_get(o, "label");
    char num[32];
    const char *k = NULL;
    size_t klen = 0;
    if (json_is_string(key)) {
        k = json_string_value(key);
        klen = json_string_length(key);
    } else if (json_is_integer(key)) {
        klen = (size_t)snprintf(num, sizeof num, "%" JSON_INTEGER_FORMAT, json_integer_value(key));
        k = num;
    }
    if (!json_is_object(o))
        rc = fail(w, "a JSON line must be an object with \"id\" or \"entity\" and \"label\"");
    else if (id && entity)
        rc = fail(w, "give \"id\" or \"entity\", not both");
    else if (!key)
        rc = fail(w, "missing \"id\" or \"entity\"");
    else if (!k)
        rc = fail(w, "\"%s\" must be a string or an integer", id ? "id" : "entity");
    else if (klen == 0)
        rc = fail(w, "empty \"%s\"", id ? "id" : "entity");
    else if (!label)
        rc = fail(w, "missing \"label\"");
    else if ((rc = json_label(w, label)) >= 0)
        rc = vd_labels_set(l, k, klen, rc);
    json_decref(o);
    return rc;
}

static void trim(const char **s, size_t *n) {
    while (*n && isspace((unsigned char)**s)) {
        (*s)++;
        (*n)--;
    }
    while (*n && isspace((unsigned char)(*s)[*n - 1]))
        (*n)--;
}

/* A quoted CSV field at s[0..n): its text (quotes undone) into *out (malloc'd). Returns the
 * bytes read, or 0 when the closing quote is missing. */
static size_t unquote(const char *s, size_t n, char **out, size_t *len) {
    char *buf = malloc(n);
    size_t o = 0;
    if (!buf) return 0;
    for (size_t i = 1; i < n; i++) {
        if (s[i] != '"') {
            buf[o++] = s[i];
        } else if (i + 1 < n && s[i + 1] == '"') {
            buf[o++] = '"';
            i++;
        } else {
            *out = buf;
            *len = o;
            return i + 1;
        }
    }
    free(buf);
    return 0;
}

static int csv_line(vd_labels_t *l, const where_t *w, const char *s, size_t n, int first) {
    char *quoted = NULL;
    const char *key = s, *rest;
    size_t klen, rlen;
    if (s[0] == '"') {
        size_t used = unquote(s, n, &quoted, &klen);
        if (!used) return fail(w, "a quoted key has no closing quote");
        key = quoted;
        rest = s + used;
        rlen = n - used;
        trim(&rest, &rlen);
        if (!rlen || rest[0] != ',') {
            free(quoted);
            return fail(w, "expected KEY,LABEL");
        }
        rest++;
        rlen--;
    } else {
        const char *comma = memchr(s, ',', n);
        if (!comma) return fail(w, "expected KEY,LABEL or a JSON object");
        klen = (size_t)(comma - s);
        rest = comma + 1;
        rlen = n - klen - 1;
        trim(&key, &klen);
    }
    trim(&rest, &rlen);
    int rc;
    if (memchr(rest, ',', rlen))
        rc = fail(w, "expected two fields, KEY,LABEL");
    else if (first && rlen == 5 && strncasecmp(rest, "label", 5) == 0)
        rc = 0; /* a header */
    else if (!klen)
        rc = fail(w, "empty key");
    else if ((rc = vd_labels_word(rest, rlen)) < 0)
        rc = fail(w, "unknown label \"%.*s\" (%s)", (int)(rlen < 40 ? rlen : 40), rest, WORDS_HELP);
    else
        rc = vd_labels_set(l, key, klen, rc);
    free(quoted);
    return rc;
}

int vd_labels_read(vd_labels_t *l, FILE *in, const char *name, char *err, size_t errlen) {
    where_t w = {name, 0, err, errlen};
    char *line = NULL;
    size_t cap = 0;
    ssize_t got;
    int rc = 0, first = 1;
    while (rc == 0 && (got = getline(&line, &cap, in)) >= 0) {
        w.line++;
        const char *s = line;
        size_t n = (size_t)got;
        if (w.line == 1 && n >= 3 && memcmp(s, "\xef\xbb\xbf", 3) == 0) { /* a UTF-8 BOM */
            s += 3;
            n -= 3;
        }
        trim(&s, &n);
        if (n == 0 || s[0] == '#') continue;
        if (memchr(s, '\0', n)) {
            rc = fail(&w, "a NUL byte in the line");
            break;
        }
        rc = s[0] == '{' ? json_line(l, &w, s, n) : csv_line(l, &w, s, n, first);
        first = 0;
    }
    if (rc == 0 && ferror(in)) {
        snprintf(err, errlen, "%s: %s", name, strerror(errno));
        rc = VD_EIO;
    }
    if (rc == VD_ENOMEM) snprintf(err, errlen, "%s:%" PRIu64 ": out of memory", name, w.line);
    free(line);
    return rc;
}

int vd_labels_load(vd_labels_t *l, const char *path, char *err, size_t errlen) {
    FILE *f = fopen(path, "r");
    if (!f) {
        snprintf(err, errlen, "%s: %s", path, strerror(errno));
        return VD_EIO;
    }
    int rc = vd_labels_read(l, f, path, err, errlen);
    fclose(f);
    return rc;
}
