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

void vd_state_op_fail(vd_state_op_t *op, const char *why) {
    op->failed = 1;
    snprintf(op->why, sizeof op->why, "%s", why);
    if (op->done) op->done(op);
}
