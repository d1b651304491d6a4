/* What a replay gives a decision from its record: the state reads and plugin outputs the
 * original decision observed (decision.h vd_observed_t), answered again instead of asking the
 * store or calling the plugin, so that a replay sees the world as the decision saw it. */
#ifndef VD_RECORDED_H
#define VD_RECORDED_H

#include "decision.h"

#include <stddef.h>

typedef struct vd_recorded {
    const vd_observed_t *items;
    size_t n;
    unsigned char *used; /* one per item: each answers once */
    int state;           /* reuse the state reads */
    int plugins;         /* reuse the plugin stages' outputs */
    /* A replay decides records on several threads at once as long as no decision touches the
     * replay's own state (the order of those would then matter): with store_forbidden, a state
     * read the record cannot answer, or a label written, sets missed and is answered with
     * nothing; the replay discards that decision and makes it again, in input order. */
    int store_forbidden;
    int missed;
} vd_recorded_t;

/* The first observation not used yet of this kind, name and value (value NULL: a read without
 * one), now marked used; NULL when the record has none (the candidate asks something the
 * original did not). */
const vd_observed_t *vd_recorded_take(vd_recorded_t *r, vd_obs_kind_t kind, const char *name,
                                      size_t len, const char *value, size_t vlen);

#endif
