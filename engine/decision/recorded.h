/* What a replay gives a decision from its record: the state reads and plugin outputs the
 * original decision observed (decision.h vd_observed_t), answered again instead of asking the
 * store or calling the plugin, so that a replay sees the world as the decision saw it. */
#ifndef VD_RECORDED_H
#define VD_RECORDED_H

#include "decision.h"

#include <msgpack.h>
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
    /* When not NULL: what the reads answered from the record would have taught the replay's
     * own state (an anomaly model's value, a profile's event), packed by the bindings
     * (VD_LEARN_*) for the replay to apply in input order, so that a later read the record
     * cannot answer finds the history a decision-by-decision run would have built. A decision
     * made with the state (store_forbidden 0) teaches it at once instead: a later read of the
     * same decision sees it, as it would live. */
    msgpack_sbuffer *learn;
} vd_recorded_t;

/* The learn entries, each an array: [VD_LEARN_ANOMALY, key (bin), now, value, every] and
 * [VD_LEARN_PROFILE, entity (bin), now, half_life_s, has_place, lat, lon,
 *  [[name (bin), value (bin)], ...]]. */
enum { VD_LEARN_ANOMALY, VD_LEARN_PROFILE };

/* Starts a learn entry of items items when r collects them (else returns 0): its kind, key
 * and time, packed with pk, which the caller goes on with. */
int vd_recorded_learn_begin(vd_recorded_t *r, msgpack_packer *pk, int kind, uint32_t items,
                            const char *key, size_t len, int64_t now);

/* The first observation not used yet of this kind, name and value (value NULL: a read without
 * one), now marked used; NULL when the record has none (the candidate asks something the
 * original did not). */
const vd_observed_t *vd_recorded_take(vd_recorded_t *r, vd_obs_kind_t kind, const char *name,
                                      size_t len, const char *value, size_t vlen);

#endif
