#include "decision_pack.h"

#include "proto/rpc.h"

static void pack_reasons(msgpack_packer *pk, const vd_vec_t *reasons) {
    msgpack_pack_array(pk, reasons->len);
    for (uint32_t i = 0; i < reasons->len; i++) {
        const vd_reason_t *r = &VD_VEC_AT(*reasons, vd_reason_t, i);
        msgpack_pack_map(pk, r->detail ? 4 : 3);
        vd_pack_cstr(pk, "rule");
        vd_pack_cstr(pk, r->rule);
        vd_pack_cstr(pk, "stage");
        vd_pack_cstr(pk, r->stage);
        vd_pack_cstr(pk, "score");
        msgpack_pack_double(pk, r->score);
        if (r->detail) {
            vd_pack_cstr(pk, "detail");
            vd_pack_cstr(pk, r->detail);
        }
    }
}

static void pack_tags(msgpack_packer *pk, const vd_vec_t *tags) {
    msgpack_pack_array(pk, tags->len);
    for (uint32_t i = 0; i < tags->len; i++)
        vd_pack_cstr(pk, VD_VEC_AT(*tags, const char *, i));
}

static void pack_value(msgpack_packer *pk, const vd_value_t *v) {
    switch (v->type) {
    case VD_VAL_BOOL:
        v->u.b ? msgpack_pack_true(pk) : msgpack_pack_false(pk);
        break;
    case VD_VAL_INT:
        msgpack_pack_int64(pk, v->u.i);
        break;
    case VD_VAL_NUM:
        msgpack_pack_double(pk, v->u.n);
        break;
    case VD_VAL_STR:
        msgpack_pack_str(pk, v->u.s.len);
        msgpack_pack_str_body(pk, v->u.s.ptr, v->u.s.len);
        break;
    default:
        msgpack_pack_nil(pk);
        break;
    }
}

static void pack_features(msgpack_packer *pk, const vd_decision_t *d, int shadow) {
    uint32_t n = 0;
    for (uint32_t i = 0; i < d->features.len; i++)
        n += VD_VEC_AT(d->features, vd_feature_t, i).shadow == shadow;
    msgpack_pack_map(pk, n);
    for (uint32_t i = 0; i < d->features.len; i++) {
        const vd_feature_t *f = &VD_VEC_AT(d->features, vd_feature_t, i);
        if (f->shadow != shadow) continue;
        vd_pack_cstr(pk, f->name);
        pack_value(pk, &f->value);
    }
}

static void pack_faults(msgpack_packer *pk, const vd_vec_t *faults) {
    msgpack_pack_array(pk, faults->len);
    for (uint32_t i = 0; i < faults->len; i++) {
        const vd_fault_t *f = &VD_VEC_AT(*faults, vd_fault_t, i);
        msgpack_pack_map(pk, 3);
        vd_pack_cstr(pk, "stage");
        vd_pack_cstr(pk, f->stage);
        vd_pack_cstr(pk, "rule");
        vd_pack_cstr(pk, f->rule);
        vd_pack_cstr(pk, "message");
        vd_pack_cstr(pk, f->message);
    }
}

static void pack_stop(msgpack_packer *pk, const vd_outcome_t *o) {
    msgpack_pack_map(pk, 2);
    vd_pack_cstr(pk, "rule");
    vd_pack_cstr(pk, o->stop_rule ? o->stop_rule : "");
    vd_pack_cstr(pk, "action");
    vd_pack_cstr(pk, o->stop_action);
}

static void pack_shadow(msgpack_packer *pk, const vd_decision_t *d) {
    msgpack_pack_map(pk, 5 + (d->shadow.stop_action != NULL));
    vd_pack_cstr(pk, "action");
    vd_pack_cstr(pk, d->shadow_action);
    vd_pack_cstr(pk, "score");
    msgpack_pack_double(pk, d->main.score + d->shadow.score);
    vd_pack_cstr(pk, "reasons");
    pack_reasons(pk, &d->shadow.reasons);
    vd_pack_cstr(pk, "tags");
    pack_tags(pk, &d->shadow.tags);
    vd_pack_cstr(pk, "features");
    pack_features(pk, d, 1);
    if (d->shadow.stop_action) {
        vd_pack_cstr(pk, "stopped_by");
        pack_stop(pk, &d->shadow);
    }
}

static void pack_trace(msgpack_packer *pk, const vd_decision_t *d) {
    msgpack_pack_array(pk, d->trace.len);
    for (uint32_t i = 0; i < d->trace.len; i++) {
        const vd_trace_stage_t *t = &VD_VEC_AT(d->trace, vd_trace_stage_t, i);
        msgpack_pack_map(pk, 5);
        vd_pack_cstr(pk, "stage");
        vd_pack_cstr(pk, t->stage);
        vd_pack_cstr(pk, "shadow");
        t->shadow ? msgpack_pack_true(pk) : msgpack_pack_false(pk);
        vd_pack_cstr(pk, "elapsed_us");
        msgpack_pack_double(pk, (double)t->elapsed_ns / 1000.0);
        vd_pack_cstr(pk, "score");
        msgpack_pack_double(pk, t->score);
        vd_pack_cstr(pk, "rules");
        msgpack_pack_array(pk, t->rules.len);
        for (uint32_t k = 0; k < t->rules.len; k++) {
            const vd_trace_rule_t *r = &VD_VEC_AT(t->rules, vd_trace_rule_t, k);
            msgpack_pack_map(pk, r->error ? 4 : 3);
            vd_pack_cstr(pk, "rule");
            vd_pack_cstr(pk, r->rule);
            vd_pack_cstr(pk, "fired");
            r->fired ? msgpack_pack_true(pk) : msgpack_pack_false(pk);
            vd_pack_cstr(pk, "score");
            msgpack_pack_double(pk, r->score);
            if (r->error) {
                vd_pack_cstr(pk, "error");
                vd_pack_cstr(pk, r->error);
            }
        }
    }
}

void vd_decision_pack(msgpack_packer *pk, const vd_decision_t *d, const vd_decision_meta_t *m) {
    int stopped = d->main.stop_action != NULL;
    msgpack_pack_map(pk, 9 + stopped + d->has_shadow + (d->explain != 0));
    vd_pack_cstr(pk, "action");
    vd_pack_cstr(pk, d->action);
    vd_pack_cstr(pk, "score");
    msgpack_pack_double(pk, d->main.score);
    vd_pack_cstr(pk, "reasons");
    pack_reasons(pk, &d->main.reasons);
    vd_pack_cstr(pk, "tags");
    pack_tags(pk, &d->main.tags);
    vd_pack_cstr(pk, "pipeline");
    vd_pack_cstr(pk, m->pipeline);
    vd_pack_cstr(pk, "policy");
    vd_pack_cstr(pk, m->policy);
    vd_pack_cstr(pk, "elapsed_us");
    msgpack_pack_int64(pk, m->elapsed_us);
    vd_pack_cstr(pk, "features");
    pack_features(pk, d, 0);
    vd_pack_cstr(pk, "faults");
    pack_faults(pk, &d->faults);
    if (stopped) {
        vd_pack_cstr(pk, "stopped_by");
        pack_stop(pk, &d->main);
    }
    if (d->has_shadow) {
        vd_pack_cstr(pk, "shadow");
        pack_shadow(pk, d);
    }
    if (d->explain) {
        vd_pack_cstr(pk, "trace");
        pack_trace(pk, d);
    }
}
