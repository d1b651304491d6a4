#include "state_op.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

vd_state_op_t *vd_state_op_new(vd_state_op_kind_t kind, const char *key, size_t klen,
                               const char *value, size_t vlen) {
    vd_state_op_t *op = calloc(1, sizeof *op + klen + vlen + 2);
    if (!op) return NULL;
    op->kind = kind;
    memcpy(op->data, key, klen);
    op->key = op->data;
    op->klen = klen;
    if (value) {
        memcpy(op->data + klen + 1, value, vlen);
        op->value = op->data + klen + 1;
        op->vlen = vlen;
    }
    return op;
}

vd_state_op_t *vd_state_op_copy(const vd_state_op_t *req) {
    vd_state_op_t *op = vd_state_op_new(req->kind, req->key, req->klen, req->value, req->vlen);
    if (!op) return NULL;
    op->n = req->n;
    op->now = req->now;
    op->ttl = req->ttl;
    op->target = req->target;
    op->deadline_ns = req->deadline_ns;
    return op;
}

int vd_state_op_resolve(const vd_state_op_t *op, vd_store_t *store, int fail_open,
                        int64_t res[VD_WINDOWS]) {
    if (!op->failed) {
        memcpy(res, op->result, VD_WINDOWS * sizeof *res);
        return 0;
    }
    memset(res, 0, VD_WINDOWS * sizeof *res);
    if (op->kind == VD_OP_LABELED) res[0] = -1;
    return fail_open || !store ? 0 : vd_state_op_run_local(store, op, res);
}

int vd_state_op_apply(vd_store_t *s, vd_state_op_t *op) {
    if (op->kind == VD_OP_REPLACE)
        return vd_store_replace(s, op->target, op->key, op->klen, op->n, op->now, op->ttl, op->old,
                                op->result);
    return vd_state_op_run_local(s, op, op->result);
}

static void free_self(vd_state_op_t *op) {
    free(op);
}

void vd_state_op_abandon(vd_state_op_t *op) {
    op->done = free_self;
}

void vd_state_op_fail(vd_state_op_t *op, const char *why) {
    op->failed = 1;
    snprintf(op->why, sizeof op->why, "%s", why);
    if (op->done) op->done(op);
}

int vd_state_op_run_local(vd_store_t *s, const vd_state_op_t *op, int64_t res[VD_WINDOWS]) {
    uint64_t c[VD_WINDOWS];
    double est;
    int rc = 0;
    switch (op->kind) {
    case VD_OP_COUNT:
        rc = vd_store_count(s, op->key, op->klen, op->n, op->now, c);
        for (int w = 0; w < VD_WINDOWS; w++)
            res[w] = (int64_t)c[w];
        break;
    case VD_OP_DISTINCT:
        rc = vd_store_distinct(s, op->key, op->klen, op->value, op->vlen, op->now, op->ttl, &est);
        res[0] = (int64_t)(est + 0.5);
        break;
    case VD_OP_LABELED:
        res[0] = vd_store_label_ttl(s, op->key, op->klen, op->now);
        if (res[0] <= 0) res[0] = -1;
        break;
    case VD_OP_CAMPAIGN: /* answered by campaign_op.h, not the store */
        break;
    case VD_OP_REPLACE: {
        int64_t old[VD_WINDOWS]; /* op is the caller's: vd_state_op_apply reports it */
        rc = vd_store_replace(s, op->target, op->key, op->klen, op->n, op->now, op->ttl, old, res);
        break;
    }
    }
    return rc;
}
