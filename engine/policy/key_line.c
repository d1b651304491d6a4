#include "key_line.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>

/* Just enough of Lua's lexer to walk table constructors: names, strings (short and long),
 * comments, the punctuation that nests, and line counting as Lua counts lines. */
typedef enum { T_EOF, T_NAME, T_STRING, T_PUNCT, T_OTHER } tok_type_t;

typedef struct tok {
    tok_type_t type;
    const char *s; /* names and strings: the text (a string's without its quotes) */
    size_t len;
    int line;
    char c; /* T_PUNCT: the character */
} tok_t;

typedef struct lexer {
    const char *p, *end;
    int line;
} lexer_t;

/* Consumes one line break (\n, \r, \r\n or \n\r, as Lua reads them) if there is one. */
static int newline(lexer_t *lx) {
    if (lx->p >= lx->end || (*lx->p != '\n' && *lx->p != '\r')) return 0;
    char first = *lx->p++;
    if (lx->p < lx->end && (*lx->p == '\n' || *lx->p == '\r') && *lx->p != first) lx->p++;
    lx->line++;
    return 1;
}

/* At '[': the level of a long bracket [==[ plus one, or 0 when it is not one. */
static size_t long_open(const lexer_t *lx) {
    const char *q = lx->p + 1;
    while (q < lx->end && *q == '=')
        q++;
    return q < lx->end && *q == '[' ? (size_t)(q - lx->p) : 0;
}

/* Skips a long string or comment whose opening bracket (level - 1 '=') is at p; its text goes
 * into t when t is given. */
static void skip_long(lexer_t *lx, size_t level, tok_t *t) {
    lx->p += level + 1;
    const char *start = lx->p;
    while (lx->p < lx->end) {
        if (*lx->p == ']' && (size_t)(lx->end - lx->p) > level && lx->p[level] == ']') {
            size_t eq = 1;
            while (eq < level && lx->p[eq] == '=')
                eq++;
            if (eq == level) {
                if (t) t->s = start, t->len = (size_t)(lx->p - start);
                lx->p += level + 1;
                return;
            }
        }
        if (!newline(lx)) lx->p++;
    }
    if (t) t->s = start, t->len = (size_t)(lx->p - start);
}

static void skip_space_and_comments(lexer_t *lx) {
    while (lx->p < lx->end) {
        if (newline(lx)) continue;
        if (isspace((unsigned char)*lx->p)) {
            lx->p++;
        } else if (lx->end - lx->p >= 2 && lx->p[0] == '-' && lx->p[1] == '-') {
            lx->p += 2;
            size_t level = lx->p < lx->end && *lx->p == '[' ? long_open(lx) : 0;
            if (level) {
                skip_long(lx, level, NULL);
            } else {
                while (lx->p < lx->end && *lx->p != '\n' && *lx->p != '\r')
                    lx->p++;
            }
        } else {
            return;
        }
    }
}

static void short_string(lexer_t *lx, tok_t *t) {
    char quote = *lx->p++;
    t->s = lx->p;
    while (lx->p < lx->end && *lx->p != quote) {
        if (*lx->p == '\\' && lx->p + 1 < lx->end) lx->p++; /* the escaped character */
        if (!newline(lx)) lx->p++; /* a line break only after a backslash (or \z) */
    }
    t->len = (size_t)(lx->p - t->s);
    if (lx->p < lx->end) lx->p++;
}

static void number(lexer_t *lx) {
    char prev = 0;
    while (lx->p < lx->end &&
           (isalnum((unsigned char)*lx->p) || *lx->p == '.' || *lx->p == '_' ||
            ((*lx->p == '+' || *lx->p == '-') && strchr("eEpP", prev) && prev))) {
        prev = *lx->p++;
    }
}

static tok_type_t next(lexer_t *lx, tok_t *t) {
    skip_space_and_comments(lx);
    memset(t, 0, sizeof *t);
    t->line = lx->line;
    if (lx->p >= lx->end) return t->type = T_EOF;
    char c = *lx->p;
    if (isalpha((unsigned char)c) || c == '_') {
        t->s = lx->p;
        while (lx->p < lx->end && (isalnum((unsigned char)*lx->p) || *lx->p == '_'))
            lx->p++;
        t->len = (size_t)(lx->p - t->s);
        return t->type = T_NAME;
    }
    if (c == '"' || c == '\'') {
        short_string(lx, t);
        return t->type = T_STRING;
    }
    size_t level = c == '[' ? long_open(lx) : 0;
    if (level) {
        skip_long(lx, level, t);
        return t->type = T_STRING;
    }
    if (isdigit((unsigned char)c) ||
        (c == '.' && lx->p + 1 < lx->end && isdigit((unsigned char)lx->p[1]))) {
        number(lx);
        return t->type = T_OTHER;
    }
    lx->p++;
    /* ==, ~=, <= and >= must not look like the = of a key. */
    if (strchr("=~<>", c) && lx->p < lx->end && *lx->p == '=') {
        lx->p++;
        return t->type = T_OTHER;
    }
    t->c = c;
    return t->type = T_PUNCT;
}

static int is_punct(const tok_t *t, char c) {
    return t->type == T_PUNCT && t->c == c;
}

static int text_is(const tok_t *t, const char *s) {
    return t->len == strlen(s) && memcmp(t->s, s, t->len) == 0;
}

/* The next token, without consuming it. */
static tok_t peek(const lexer_t *lx) {
    lexer_t copy = *lx;
    tok_t t;
    next(&copy, &t);
    return t;
}

/* Consumes the next token when it is the punctuation c. */
static int accept(lexer_t *lx, char c) {
    lexer_t copy = *lx;
    tok_t t;
    next(&copy, &t);
    if (!is_punct(&t, c)) return 0;
    *lx = copy;
    return 1;
}

/* Blocks inside function bodies written in a table: their `x = 1` are statements, not keys. */
static int block_change(const tok_t *t) {
    static const char *const opens[] = {"function", "do", "if", "repeat", NULL};
    static const char *const closes[] = {"end", "until", NULL};
    for (const char *const *k = opens; *k; k++)
        if (text_is(t, *k)) return 1;
    for (const char *const *k = closes; *k; k++)
        if (text_is(t, *k)) return -1;
    return 0;
}

typedef struct want {
    const char *const *keys;
    size_t nkeys;
    const char *item;
    int deepest; /* line of the deepest key found so far */
} want_t;

static int search_table(lexer_t *lx, want_t *w);

/* After `key =` at the top of a table: 0 to go on, else the line to report (-1: stop, the
 * value the keys lead through is not written as a table). */
static int on_key(lexer_t *lx, want_t *w, const tok_t *key) {
    if (!w->nkeys || !text_is(key, w->keys[0])) return 0;
    w->deepest = key->line;
    if (w->nkeys == 1 && !w->item) return key->line;
    if (!accept(lx, '{')) return -1;
    w->keys++;
    w->nkeys--;
    int line = search_table(lx, w);
    return line ? line : -1;
}

/* With lx just past a '{': what w looks for, at this table's top level. */
static int search_table(lexer_t *lx, want_t *w) {
    int depth = 1, block = 0, field_start = 1;
    tok_t t;
    while (next(lx, &t) != T_EOF) {
        int top = field_start && depth == 1 && block == 0;
        field_start = 0;
        int found = 0;
        if (t.type == T_NAME) {
            block += block_change(&t);
            tok_t after = top ? peek(lx) : t;
            if (top && is_punct(&after, '=')) {
                accept(lx, '=');
                found = on_key(lx, w, &t);
            }
        } else if (t.type == T_STRING && top) {
            tok_t after = peek(lx);
            if (w->item && !w->nkeys && text_is(&t, w->item) &&
                (is_punct(&after, ',') || is_punct(&after, ';') || is_punct(&after, '}')))
                return t.line;
        } else if (is_punct(&t, '[') && top) {
            lexer_t copy = *lx;
            tok_t k;
            if (next(&copy, &k) == T_STRING && accept(&copy, ']') && accept(&copy, '=')) {
                *lx = copy;
                found = on_key(lx, w, &k);
            } else {
                depth++;
            }
        } else if (is_punct(&t, '{') || is_punct(&t, '(') || is_punct(&t, '[')) {
            depth++;
        } else if (is_punct(&t, '}') || is_punct(&t, ')') || is_punct(&t, ']')) {
            if (--depth == 0) return 0;
        } else if ((is_punct(&t, ',') || is_punct(&t, ';')) && depth == 1 && block == 0) {
            field_start = 1;
        }
        if (found) return found;
    }
    return 0;
}

/* Moves lx past the '{' of `kind "name" {` written on the declaration's line. */
static int find_declaration(lexer_t *lx, const vd_decl_at_t *d) {
    tok_t t;
    while (next(lx, &t) != T_EOF && t.line <= d->line) {
        if (t.line < d->line || t.type != T_NAME || !text_is(&t, d->kind)) continue;
        lexer_t copy = *lx;
        tok_t name;
        int paren = accept(&copy, '(');
        if (next(&copy, &name) != T_STRING || !text_is(&name, d->name)) continue;
        if (paren && !accept(&copy, ')')) continue;
        accept(&copy, '(');
        if (!accept(&copy, '{')) continue;
        *lx = copy;
        return 1;
    }
    return 0;
}

/* The file a chunk name refers to: "<dir>/<path>", or its tail after "..." when Lua shortened
 * a long one. */
static const vd_src_file_t *find_file(const vd_policy_src_t *src, const char *file) {
    int tail = strncmp(file, "...", 3) == 0;
    size_t want = strlen(file) - (tail ? 3 : 0);
    for (size_t i = 0; i < src->nfiles; i++) {
        char full[4200];
        int n = snprintf(full, sizeof full, "%s/%s", src->dir, src->files[i].path);
        if (n < 0 || (size_t)n >= sizeof full || (size_t)n < want) continue;
        if (tail ? strcmp(full + (size_t)n - want, file + 3) == 0 : strcmp(full, file) == 0)
            return &src->files[i];
    }
    return NULL;
}

int vd_policy_key_line(const vd_policy_src_t *src, const vd_decl_at_t *decl,
                       const char *const *keys, size_t nkeys, const char *item) {
    if (!src || !decl->file || !decl->kind || !decl->name) return decl->line;
    const vd_src_file_t *f = find_file(src, decl->file);
    if (!f || decl->line <= 0) return decl->line;
    lexer_t lx = {f->data, f->data + f->len, 1};
    if (!find_declaration(&lx, decl)) return decl->line;
    want_t w = {keys, nkeys, item, 0};
    int line = search_table(&lx, &w);
    if (line > 0) return line;
    return w.deepest ? w.deepest : decl->line;
}
