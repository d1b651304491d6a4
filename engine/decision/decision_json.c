#include "decision_json.h"

#include "explain_pack.h"

#include <stdint.h>
#include <string.h>

/* Room for a C string written quoted and escaped (NULL: null), with its length, or 0 when it
 * cannot be had: a piece of a line that reserves once; three of them never wrap a sum. */
static size_t room_for(const char *s, size_t *len) {
    *len = s ? strlen(s) : 0;
    return !s ? 4 : *len < SIZE_MAX / 32 ? 2 + 6 * *len : 0;
}

static char *put_cstr(char *o, const char *s, size_t len) {
    return s ? vd_json_put_str(o, s, len) : VD_JSON_PUT_LIT(o, "null");
}

/* A reason's end: ,"detail":... when it has one, and the brace. */
static char *detail_and_end(char *o, const char *detail, size_t len) {
    if (detail) {
        o = VD_JSON_PUT_LIT(o, ",\"detail\":");
        o = vd_json_put_str(o, detail, len);
    }
    *o++ = '}';
    return o;
}

/* Each reason is written into room reserved once: a line has three to ten of them. */
static void reasons_json(vd_jbuf_t *j, const vd_vec_t *reasons) {
    VD_JSON_LIT(j, "[");
    for (uint32_t i = 0; i < reasons->len; i++) {
        const vd_reason_t *r = &VD_VEC_AT(*reasons, vd_reason_t, i);
        if (r->head) { /* a rule's: its start made when the policy loaded */
            size_t nd, c = room_for(r->detail, &nd);
            char *o = c && r->head_len < SIZE_MAX / 4 ? vd_json_room(j, 64 + r->head_len + c)
                                                      : NULL; /* a double, literals */
            if (!o) {
                j->failed = 1;
                return;
            }
            if (i) *o++ = ',';
            o = vd_json_put_raw(o, r->head, r->head_len);
            vd_json_end(j, detail_and_end(vd_json_put_double(o, r->score), r->detail, nd));
            continue;
        }
        size_t nr, ns, nd, a = room_for(r->rule, &nr), b = room_for(r->stage, &ns),
                           c = room_for(r->detail, &nd);
        if (!a || !b || !c) {
            j->failed = 1;
            return;
        }
        char *o = vd_json_room(j, 96 + a + b + c); /* literals, a double: under 96 bytes */
        if (!o) return;
        if (i) *o++ = ',';
        o = VD_JSON_PUT_LIT(o, "{\"rule\":");
        o = put_cstr(o, r->rule, nr);
        o = VD_JSON_PUT_LIT(o, ",\"stage\":");
        o = put_cstr(o, r->stage, ns);
        o = VD_JSON_PUT_LIT(o, ",\"score\":");
        vd_json_end(j, detail_and_end(vd_json_put_double(o, r->score), r->detail, nd));
    }
    VD_JSON_LIT(j, "]");
}

static void tags_json(vd_jbuf_t *j, const vd_vec_t *tags) {
    VD_JSON_LIT(j, "[");
    for (uint32_t i = 0; i < tags->len; i++) {
        const char *tag = VD_VEC_AT(*tags, const char *, i);
        size_t n, room = room_for(tag, &n);
        char *o = room ? vd_json_room(j, 8 + room) : NULL;
        if (!o) {
            j->failed = 1;
            return;
        }
        if (i) *o++ = ',';
        vd_json_end(j, put_cstr(o, tag, n));
    }
    VD_JSON_LIT(j, "]");
}

void vd_value_json(vd_jbuf_t *j, const vd_value_t *v) {
    switch (v->type) {
    case VD_VAL_BOOL:
        vd_json_bool(j, v->u.b);
        break;
    case VD_VAL_INT:
        vd_json_int(j, v->u.i);
        break;
    case VD_VAL_NUM:
        vd_json_double(j, v->u.n);
        break;
    case VD_VAL_STR:
        vd_json_str(j, v->u.s.ptr, v->u.s.len);
        break;
    default:
        VD_JSON_LIT(j, "null");
        break;
    }
}

static void features_json(vd_jbuf_t *j, const vd_decision_t *d, int shadow) {
    int first = 1;
    VD_JSON_LIT(j, "{");
    for (uint32_t i = 0; i < d->features.len; i++) {
        const vd_feature_t *f = &VD_VEC_AT(d->features, vd_feature_t, i);
        if (f->shadow != shadow) continue;
        if (!first) VD_JSON_LIT(j, ",");
        first = 0;
        vd_json_cstr(j, f->name);
        VD_JSON_LIT(j, ":");
        vd_value_json(j, &f->value);
    }
    VD_JSON_LIT(j, "}");
}

static void faults_json(vd_jbuf_t *j, const vd_vec_t *faults) {
    VD_JSON_LIT(j, "[");
    for (uint32_t i = 0; i < faults->len; i++) {
        const vd_fault_t *f = &VD_VEC_AT(*faults, vd_fault_t, i);
        if (i) VD_JSON_LIT(j, ",");
        VD_JSON_LIT(j, "{\"stage\":");
        vd_json_cstr(j, f->stage);
        VD_JSON_LIT(j, ",\"rule\":");
        vd_json_cstr(j, f->rule);
        VD_JSON_LIT(j, ",\"message\":");
        vd_json_cstr(j, f->message);
        VD_JSON_LIT(j, "}");
    }
    VD_JSON_LIT(j, "]");
}

static void stop_json(vd_jbuf_t *j, const vd_outcome_t *o) {
    VD_JSON_LIT(j, "{\"rule\":");
    vd_json_cstr(j, o->stop_rule ? o->stop_rule : "");
    VD_JSON_LIT(j, ",\"action\":");
    vd_json_cstr(j, o->stop_action);
    VD_JSON_LIT(j, "}");
}

static void shadow_json(vd_jbuf_t *j, const vd_decision_t *d) {
    VD_JSON_LIT(j, "{\"action\":");
    vd_json_cstr(j, d->shadow_action);
    VD_JSON_LIT(j, ",\"score\":");
    vd_json_double(j, d->main.score + d->shadow.score);
    VD_JSON_LIT(j, ",\"reasons\":");
    reasons_json(j, &d->shadow.reasons);
    VD_JSON_LIT(j, ",\"tags\":");
    tags_json(j, &d->shadow.tags);
    VD_JSON_LIT(j, ",\"features\":");
    features_json(j, d, 1);
    if (d->shadow.stop_action) {
        VD_JSON_LIT(j, ",\"stopped_by\":");
        stop_json(j, &d->shadow);
    }
    VD_JSON_LIT(j, "}");
}

/* The trace and why of explain (rare: a debugging aid) as the reply packs them, converted. */
static void explain_json(vd_jbuf_t *j, const vd_decision_t *d) {
    msgpack_sbuffer sb;
    msgpack_sbuffer_init(&sb);
    vd_trace_pack(&sb, d);
    size_t trace_len = sb.size;
    vd_why_pack(&sb, d);
    if (!sb.data) {
        j->failed = 1;
        return;
    }
    VD_JSON_LIT(j, ",\"trace\":");
    vd_json_msgpack(j, sb.data, trace_len);
    VD_JSON_LIT(j, ",\"why\":");
    vd_json_msgpack(j, sb.data + trace_len, sb.size - trace_len);
    msgpack_sbuffer_destroy(&sb);
}

void vd_decision_json(vd_jbuf_t *j, const vd_decision_t *d, const vd_decision_meta_t *m) {
    if (m->id) {
        VD_JSON_LIT(j, "{\"id\":");
        vd_json_cstr(j, m->id);
        VD_JSON_LIT(j, ",\"action\":");
    } else {
        VD_JSON_LIT(j, "{\"action\":");
    }
    vd_json_cstr(j, d->action);
    VD_JSON_LIT(j, ",\"score\":");
    vd_json_double(j, d->main.score);
    VD_JSON_LIT(j, ",\"reasons\":");
    reasons_json(j, &d->main.reasons);
    VD_JSON_LIT(j, ",\"tags\":");
    tags_json(j, &d->main.tags);
    VD_JSON_LIT(j, ",\"pipeline\":");
    vd_json_cstr(j, m->pipeline);
    VD_JSON_LIT(j, ",\"policy\":");
    vd_json_cstr(j, m->policy);
    VD_JSON_LIT(j, ",\"elapsed_us\":");
    vd_json_int(j, m->elapsed_us);
    VD_JSON_LIT(j, ",\"features\":");
    features_json(j, d, 0);
    VD_JSON_LIT(j, ",\"faults\":");
    faults_json(j, &d->faults);
    if (d->main.stop_action) {
        VD_JSON_LIT(j, ",\"stopped_by\":");
        stop_json(j, &d->main);
    }
    if (d->has_shadow) {
        VD_JSON_LIT(j, ",\"shadow\":");
        shadow_json(j, d);
    }
    if (d->explain) explain_json(j, d);
    VD_JSON_LIT(j, "}");
}
