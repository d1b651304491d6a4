#include "suggest.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>

/* How far a name of len bytes may be from a candidate for the candidate to be a likely slip:
 * short names have little room, or everything would be suggested for everything. */
static int allowed(size_t len) {
    return len <= 3 ? 1 : len <= 7 ? 2 : 3;
}

static int same(char a, char b) {
    return tolower((unsigned char)a) == tolower((unsigned char)b);
}

static int min3(int a, int b, int c) {
    int m = a < b ? a : b;
    return m < c ? m : c;
}

/* Edits (insertions, deletions, substitutions and swaps of neighbours, letter case ignored)
 * between a and b, both at most VD_SUGGEST_MAX bytes; three rows of the usual table. */
static int distance(const char *a, size_t n, const char *b, size_t m) {
    int rows[3][VD_SUGGEST_MAX + 1];
    int *prev2 = rows[0], *prev = rows[1], *cur = rows[2];
    for (size_t j = 0; j <= m; j++)
        prev[j] = (int)j;
    for (size_t i = 1; i <= n; i++) {
        cur[0] = (int)i;
        for (size_t j = 1; j <= m; j++) {
            int cost = same(a[i - 1], b[j - 1]) ? 0 : 1;
            cur[j] = min3(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + cost);
            if (i > 1 && j > 1 && same(a[i - 1], b[j - 2]) && same(a[i - 2], b[j - 1]) &&
                prev2[j - 2] + 1 < cur[j])
                cur[j] = prev2[j - 2] + 1;
        }
        int *t = prev2;
        prev2 = prev;
        prev = cur;
        cur = t;
    }
    return prev[m];
}

void vd_suggest_init(vd_suggest_t *s, const char *name) {
    s->name = name;
    s->len = strlen(name);
    s->dist = allowed(s->len) + 1;
    s->best[0] = '\0';
}

void vd_suggest_offer(vd_suggest_t *s, const char *candidate) {
    size_t m = strlen(candidate);
    if (s->len > VD_SUGGEST_MAX || m > VD_SUGGEST_MAX || m == 0) return;
    if (m == s->len && memcmp(candidate, s->name, m) == 0) return; /* itself is no suggestion */
    size_t gap = m > s->len ? m - s->len : s->len - m;
    if (gap > (size_t)s->dist) return; /* cannot beat the best so far */
    int d = distance(s->name, s->len, candidate, m);
    /* As many edits as the name has letters: a different word, not a slip. */
    if (d >= (int)s->len && d > 0) return;
    if (d < s->dist || (d == s->dist && *s->best && strcmp(candidate, s->best) < 0)) {
        s->dist = d;
        memcpy(s->best, candidate, m + 1);
    }
}

const char *vd_suggest_best(const vd_suggest_t *s) {
    return *s->best ? s->best : NULL;
}

const char *vd_suggest_hint(const vd_suggest_t *s, const char *fmt, char *buf, size_t cap) {
    if (*s->best)
        snprintf(buf, cap, fmt, s->best);
    else if (cap)
        *buf = '\0';
    return buf;
}
