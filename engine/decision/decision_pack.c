#include "decision_pack.h"

#include "explain_pack.h"

#include "proto/mpbuf.h"

static void pack_reasons(msgpack_sbuffer *pk, const vd_vec_t *reasons) {
    vd_mp_array(pk, reasons->len);
    for (uint32_t i = 0; i < reasons->len; i++) {
        const vd_reason_t *r = &VD_VEC_AT(*reasons, vd_reason_t, i);
        vd_mp_map(pk, r->detail ? 4 : 3);
        VD_MP_LIT(pk, "rule");
        vd_mp_cstr(pk, r->rule);
        VD_MP_LIT(pk, "stage");
        vd_mp_cstr(pk, r->stage);
        VD_MP_LIT(pk, "score");
        vd_mp_double(pk, r->score);
        if (r->detail) {
            VD_MP_LIT(pk, "detail");
            vd_mp_cstr(pk, r->detail);
        }
    }
}

static void pack_tags(msgpack_sbuffer *pk, const vd_vec_t *tags) {
    vd_mp_array(pk, tags->len);
    for (uint32_t i = 0; i < tags->len; i++)
        vd_mp_cstr(pk, VD_VEC_AT(*tags, const char *, i));
}

void vd_value_pack(msgpack_sbuffer *pk, const vd_value_t *v) {
    switch (v->type) {
    case VD_VAL_BOOL:
        vd_mp_bool(pk, v->u.b);
        break;
    case VD_VAL_INT:
        vd_mp_int(pk, v->u.i);
        break;
    case VD_VAL_NUM:
        vd_mp_double(pk, v->u.n);
        break;
    case VD_VAL_STR:
        vd_mp_str(pk, v->u.s.ptr, v->u.s.len);
        break;
    default:
        vd_mp_nil(pk);
        break;
    }
}

static void pack_features(msgpack_sbuffer *pk, const vd_decision_t *d, int shadow) {
    uint32_t n = 0;
    for (uint32_t i = 0; i < d->features.len; i++)
        n += VD_VEC_AT(d->features, vd_feature_t, i).shadow == shadow;
    vd_mp_map(pk, n);
    for (uint32_t i = 0; i < d->features.len; i++) {
        const vd_feature_t *f = &VD_VEC_AT(d->features, vd_feature_t, i);
        if (f->shadow != shadow) continue;
        vd_mp_cstr(pk, f->name);
        vd_value_pack(pk, &f->value);
    }
}

static void pack_faults(msgpack_sbuffer *pk, const vd_vec_t *faults) {
    vd_mp_array(pk, faults->len);
    for (uint32_t i = 0; i < faults->len; i++) {
        const vd_fault_t *f = &VD_VEC_AT(*faults, vd_fault_t, i);
        vd_mp_map(pk, 3);
        VD_MP_LIT(pk, "stage");
        vd_mp_cstr(pk, f->stage);
        VD_MP_LIT(pk, "rule");
        vd_mp_cstr(pk, f->rule);
        VD_MP_LIT(pk, "message");
        vd_mp_cstr(pk, f->message);
    }
}

static void pack_stop(msgpack_sbuffer *pk, const vd_outcome_t *o) {
    vd_mp_map(pk, 2);
    VD_MP_LIT(pk, "rule");
    vd_mp_cstr(pk, o->stop_rule ? o->stop_rule : "");
    VD_MP_LIT(pk, "action");
    vd_mp_cstr(pk, o->stop_action);
}

static void pack_shadow(msgpack_sbuffer *pk, const vd_decision_t *d) {
    vd_mp_map(pk, 5 + (d->shadow.stop_action != NULL));
    VD_MP_LIT(pk, "action");
    vd_mp_cstr(pk, d->shadow_action);
    VD_MP_LIT(pk, "score");
    vd_mp_double(pk, d->main.score + d->shadow.score);
    VD_MP_LIT(pk, "reasons");
    pack_reasons(pk, &d->shadow.reasons);
    VD_MP_LIT(pk, "tags");
    pack_tags(pk, &d->shadow.tags);
    VD_MP_LIT(pk, "features");
    pack_features(pk, d, 1);
    if (d->shadow.stop_action) {
        VD_MP_LIT(pk, "stopped_by");
        pack_stop(pk, &d->shadow);
    }
}

void vd_decision_pack(msgpack_sbuffer *pk, const vd_decision_t *d, const vd_decision_meta_t *m) {
    int stopped = d->main.stop_action != NULL;
    vd_mp_map(pk, 9 + stopped + d->has_shadow + 2 * (d->explain != 0) + (m->id != NULL));
    if (m->id) {
        VD_MP_LIT(pk, "id");
        vd_mp_cstr(pk, m->id);
    }
    VD_MP_LIT(pk, "action");
    vd_mp_cstr(pk, d->action);
    VD_MP_LIT(pk, "score");
    vd_mp_double(pk, d->main.score);
    VD_MP_LIT(pk, "reasons");
    pack_reasons(pk, &d->main.reasons);
    VD_MP_LIT(pk, "tags");
    pack_tags(pk, &d->main.tags);
    VD_MP_LIT(pk, "pipeline");
    vd_mp_cstr(pk, m->pipeline);
    VD_MP_LIT(pk, "policy");
    vd_mp_cstr(pk, m->policy);
    VD_MP_LIT(pk, "elapsed_us");
    vd_mp_int(pk, m->elapsed_us);
    VD_MP_LIT(pk, "features");
    pack_features(pk, d, 0);
    VD_MP_LIT(pk, "faults");
    pack_faults(pk, &d->faults);
    if (stopped) {
        VD_MP_LIT(pk, "stopped_by");
        pack_stop(pk, &d->main);
    }
    if (d->has_shadow) {
        VD_MP_LIT(pk, "shadow");
        pack_shadow(pk, d);
    }
    if (d->explain) {
        VD_MP_LIT(pk, "trace");
        vd_trace_pack(pk, d);
        VD_MP_LIT(pk, "why");
        vd_why_pack(pk, d);
    }
}
