#include "campaign_op.h"

#include "base/error.h"

#include <stdalign.h>
#include <stdlib.h>
#include <string.h>

/* The ask lives in the operation's own allocation, before the key and value bytes. */
#define ASK_BYTES                                                                                  \
    ((sizeof(vd_campaign_ask_t) + alignof(max_align_t) - 1) & ~(alignof(max_align_t) - 1))

vd_state_op_t *vd_campaign_op_new(const vd_campaign_ask_t *ask, const vd_campaign_opts_t *o,
                                  const char *reporter, size_t rlen) {
    const char *key = o ? o->scope : reporter, *value = o ? o->source : NULL;
    size_t klen = o ? (o->scope ? o->scope_len : 0) : (reporter ? rlen : 0);
    size_t vlen = value ? o->source_len : 0;
    vd_state_op_t *op = calloc(1, sizeof *op + ASK_BYTES + klen + vlen + 2);
    if (!op) return NULL;
    op->kind = VD_OP_CAMPAIGN;
    op->camp = (vd_campaign_ask_t *)(void *)op->data;
    *op->camp = *ask;
    if (o) {
        op->camp->window = o->window;
        op->camp->ttl = o->ttl;
        op->camp->look_only = o->look_only;
    }
    char *bytes = op->data + ASK_BYTES;
    if (key) { /* absent (no scope, an anonymous reporter): NULL */
        memcpy(bytes, key, klen);
        op->key = bytes;
        op->klen = klen;
    }
    if (value) {
        memcpy(bytes + klen + 1, value, vlen);
        op->value = bytes + klen + 1;
        op->vlen = vlen;
    }
    return op;
}

vd_campaign_ask_t *vd_campaign_op_ask(vd_state_op_t *op) {
    return op->camp;
}

void vd_campaign_op_opts(const vd_state_op_t *op, vd_campaign_opts_t *o) {
    const vd_campaign_ask_t *a = op->camp;
    *o = (vd_campaign_opts_t){.scope = op->key,
                              .scope_len = op->klen,
                              .source = op->value,
                              .source_len = op->vlen,
                              .window = a->window,
                              .ttl = a->ttl,
                              .look_only = a->look_only};
}

void vd_campaign_op_run_local(vd_campaigns_t *c, vd_state_op_t *op) {
    vd_campaign_ask_t *a = op->camp;
    vd_campaign_opts_t o;
    memset(&a->view, 0, sizeof a->view);
    if (!c) {
        a->rc = VD_ENOTFOUND;
        return;
    }
    vd_campaign_op_opts(op, &o);
    switch (a->what) {
    case VD_CAMPAIGN_ASK_TEXT:
        a->rc = vd_campaign_text(c, &a->sketch, &o, op->now, &a->view);
        break;
    case VD_CAMPAIGN_ASK_FIELDS:
        a->rc = vd_campaign_fields(c, a->key, &o, op->now, &a->view);
        break;
    case VD_CAMPAIGN_ASK_REPORT:
        a->rc = vd_campaign_report(c, a->kind, a->key, a->bad, a->weight, op->key, op->klen,
                                   op->now, &a->view);
        break;
    case VD_CAMPAIGN_ASK_REFS:
        a->rc = VD_ENOTFOUND;
        break;
    case VD_CAMPAIGN_ASK_GET:
    case VD_CAMPAIGN_ASK_DROP:
        a->rc = vd_campaign_inspect(c, a->kind, a->key, a->what == VD_CAMPAIGN_ASK_DROP, op->now,
                                    &a->view);
        break;
    }
}

void vd_campaign_op_resolve(vd_state_op_t *op, vd_campaigns_t *c, int fail_open) {
    vd_campaign_ask_t *a = op->camp;
    if (!op->failed) {
        if (c && a->what <= VD_CAMPAIGN_ASK_FIELDS)
            vd_campaigns_note_lookup(
                c, a->what == VD_CAMPAIGN_ASK_TEXT ? VD_CAMPAIGN_TEXT : VD_CAMPAIGN_FIELDS,
                a->matched, a->created);
        return;
    }
    if (fail_open) {
        memset(&a->view, 0, sizeof a->view);
        a->rc = VD_ENOTFOUND;
        return;
    }
    vd_campaign_op_run_local(c, op);
}
