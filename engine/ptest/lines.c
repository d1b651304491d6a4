#include "lines.h"

#include <string.h>

static int ident_char(char c) {
    return c == '_' || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

/* 1 when line[at..n) starts with spaces, then '=' that is not '=='. */
static int assigned_at(const char *line, size_t n, size_t at) {
    while (at < n && (line[at] == ' ' || line[at] == '\t'))
        at++;
    return at < n && line[at] == '=' && (at + 1 == n || line[at + 1] != '=');
}

/* The length of the line before a `--` comment. */
static size_t code_len(const char *line, size_t n) {
    for (size_t i = 0; i + 1 < n; i++)
        if (line[i] == '-' && line[i + 1] == '-') return i;
    return n;
}

static int line_has_key(const char *line, size_t n, const char *key, size_t klen) {
    for (size_t i = 0; i + klen <= n; i++) {
        if (memcmp(line + i, key, klen) != 0) continue;
        if (i >= 2 && (line[i - 1] == '"' || line[i - 1] == '\'') && line[i - 2] == '[' &&
            i + klen + 1 < n && line[i + klen] == line[i - 1] && line[i + klen + 1] == ']' &&
            assigned_at(line, n, i + klen + 2))
            return 1;
        if ((i == 0 || (!ident_char(line[i - 1]) && line[i - 1] != '.')) &&
            (i + klen == n || !ident_char(line[i + klen])) && assigned_at(line, n, i + klen))
            return 1;
    }
    return 0;
}

static int line_has_string(const char *line, size_t n, const char *s, size_t slen) {
    for (size_t i = 1; i + slen < n; i++) {
        char q = line[i - 1];
        if ((q == '"' || q == '\'') && line[i + slen] == q && memcmp(line + i, s, slen) == 0)
            return 1;
    }
    return 0;
}

/* Calls match on each line of [from, to) until it says yes; returns that line or 0. */
static int scan(const char *src, size_t len, int from, int to, const char *needle,
                int (*match)(const char *, size_t, const char *, size_t)) {
    size_t nlen = strlen(needle);
    int line = 1;
    for (size_t pos = 0; pos < len && (to == 0 || line < to); line++) {
        const char *nl = memchr(src + pos, '\n', len - pos);
        size_t n = nl ? (size_t)(nl - (src + pos)) : len - pos;
        if (line >= from && nlen && match(src + pos, code_len(src + pos, n), needle, nlen))
            return line;
        pos += n + 1;
    }
    return 0;
}

int vd_ptest_line_of_key(const char *src, size_t len, int from, int to, const char *key) {
    return scan(src, len, from, to, key, line_has_key);
}

int vd_ptest_line_of_string(const char *src, size_t len, int from, int to, const char *s) {
    return scan(src, len, from, to, s, line_has_string);
}
