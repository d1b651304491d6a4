/* "Did you mean": the known name closest to one that is not known, for messages about a
 * misspelt key, rule, action, type or global. Candidates are offered one at a time, so that a
 * caller walks whatever holds them (an array, a Lua table) without building a list. */
#ifndef VD_BASE_SUGGEST_H
#define VD_BASE_SUGGEST_H

#include <stddef.h>

/* Names longer than this are neither suggested nor given suggestions. */
#define VD_SUGGEST_MAX 64

typedef struct vd_suggest {
    const char *name; /* the unknown name (borrowed until the last offer) */
    size_t len;
    int dist;                      /* of best; larger than any accepted distance at first */
    char best[VD_SUGGEST_MAX + 1]; /* "" while no candidate is close enough */
} vd_suggest_t;

/* Starts a search for the names closest to name. */
void vd_suggest_init(vd_suggest_t *s, const char *name);

/* Considers candidate (copied when it is the closest so far). Ties go to the candidate first in
 * byte order, so that the answer does not depend on the order of the offers. */
void vd_suggest_offer(vd_suggest_t *s, const char *candidate);

/* The closest candidate when it is close enough to be a likely slip (a letter or two, a
 * swapped pair, a letter case), else NULL. */
const char *vd_suggest_best(const vd_suggest_t *s);

/* Room for a hint made with a short format. */
#define VD_SUGGEST_HINT (VD_SUGGEST_MAX + 40)

/* Writes the best candidate into buf with fmt (one %s: " (did you mean '%s'?)"), or "" when
 * there is none; returns buf, for a message's arguments. */
const char *vd_suggest_hint(const vd_suggest_t *s, const char *fmt, char *buf, size_t cap);

#endif
