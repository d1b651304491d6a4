/* A state operation a rule waits for (a counter, a distinct count, a label read) when the
 * state lives in Redis: the rule's coroutine yields, the worker serves other requests, and
 * the request resumes when the operation is done, answered or failed. An operator's change
 * (VD_OP_REPLACE, from the admin socket) is one too, waited for by its connection. */
#ifndef VD_STATE_OP_H
#define VD_STATE_OP_H

#include "store.h"

#include <stddef.h>
#include <stdint.h>

typedef enum {
    VD_OP_COUNT,
    VD_OP_DISTINCT,
    VD_OP_LABELED,
    VD_OP_REPLACE,
    VD_OP_CAMPAIGN /* a campaign lookup or report (campaign_op.h) */
} vd_state_op_kind_t;

typedef struct vd_state_op {
    vd_state_op_kind_t kind;
    /* Arguments, kept for the fallback to local state. */
    const char *key, *value; /* value: NULL for reads of distinct counts */
    size_t klen, vlen;
    uint32_t n;
    int64_t now, ttl;
    vd_store_kind_t target; /* VD_OP_REPLACE: the kind of entry it replaces (vd_store_replace) */
    int64_t deadline_ns;    /* the request's (monotonic, 0 = none): the wait ends by then */
    /* Outcome. */
    int failed; /* the answer did not come: why says what happened */
    char why[120];
    int64_t result[VD_WINDOWS];   /* counts; distinct estimate; label seconds left (< 0: none) */
    int64_t old[VD_WINDOWS];      /* VD_OP_REPLACE: what the entry held before, as result */
    struct vd_campaign_ask *camp; /* VD_OP_CAMPAIGN: what is asked and its answer */
    void (*done)(struct vd_state_op *op); /* called once, on the worker's loop */
    void *owner;
    char data[]; /* key and value bytes */
} vd_state_op_t;

/* A new operation with copies of key and value. NULL when out of memory. */
vd_state_op_t *vd_state_op_new(vd_state_op_kind_t kind, const char *key, size_t klen,
                               const char *value, size_t vlen);

/* A heap copy of req (a request built on the stack, borrowing its key and value) for an
 * operation that outlives the caller. NULL when out of memory. */
vd_state_op_t *vd_state_op_copy(const vd_state_op_t *req);

/* The results of a finished op: its answer, or when it failed the fallback's (the embedded
 * store, or nothing when fail_open or there is no store; label reads: -1 when unset).
 * Returns 0 or VD_ENOMEM. */
int vd_state_op_resolve(const vd_state_op_t *op, vd_store_t *store, int fail_open,
                        int64_t res[VD_WINDOWS]);

/* Runs op on the embedded store (the fallback, or the only state): fills res as op->result
 * would be filled (label reads: -1 when unset). Returns 0 or VD_ENOMEM (VD_EINVAL: a
 * replacement vd_store_replace refuses). */
int vd_state_op_run_local(vd_store_t *s, const vd_state_op_t *op, int64_t res[VD_WINDOWS]);

/* Runs op on the embedded store as the only state: fills op->result, and for a replacement
 * op->old. Returns 0, VD_EINVAL or VD_ENOMEM (vd_store_replace). */
int vd_state_op_apply(vd_store_t *s, vd_state_op_t *op);

/* The waiter gave up on op while Redis still holds it (its rule failed meanwhile): op frees
 * itself when its answer or failure comes. */
void vd_state_op_abandon(vd_state_op_t *op);

/* Marks op failed with a reason and calls its done callback. */
void vd_state_op_fail(vd_state_op_t *op, const char *why);

#endif
