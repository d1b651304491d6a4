#include "call.h"

#include "decision/decision_json.h"

#include "activity.h"
#include "base/error.h"
#include "decision/decision_pack.h"
#include "proto/mpbuf.h"
#include "stage.h"

#include <stdlib.h>
#include <string.h>

/* Frees what the plugin emitted, keeping the arrays. */
static void clear_outputs(vd_plugin_call_t *c) {
    for (size_t i = 0; i < c->nouts; i++) {
        free(c->outs[i].rule);
        free(c->outs[i].detail);
        free(c->outs[i].tag);
        if (c->outs[i].value.type == VD_VAL_STR) free((char *)c->outs[i].value.u.s.ptr);
    }
    c->nouts = 0;
    free(c->error);
    c->error = NULL;
}

static void destroy(vd_plugin_call_t *c) {
    clear_outputs(c);
    free(c->outs);
    free(c->field_cache);
    free(c->field_done);
    free(c);
}

/* The stage's spare call (one a previous request finished with), emptied; NULL if none. */
static vd_plugin_call_t *reuse(vd_plugin_stage_t *ps) {
    vd_plugin_call_t *c = ps->spare;
    if (!c) return NULL;
    ps->spare = NULL;
    size_t n = ps->nfields ? ps->nfields : 1;
    memset(c->field_done, 0, n);
    vd_plugin_out_t *outs = c->outs;
    size_t capouts = c->capouts;
    const msgpack_object **cache = c->field_cache;
    unsigned char *done = c->field_done;
    memset(c, 0, sizeof *c);
    c->outs = outs;
    c->capouts = capouts;
    c->field_cache = cache;
    c->field_done = done;
    atomic_init(&c->state, VD_CALL_PENDING);
    return c;
}

vd_plugin_call_t *vd_plugin_call_new(vd_plugin_stage_t *ps, const char *stage_name,
                                     const msgpack_object *event, const vd_decision_t *d,
                                     int shadow, int64_t deadline_ns) {
    vd_plugin_call_t *c = reuse(ps);
    if (!c) {
        if (!(c = calloc(1, sizeof *c))) return NULL;
        size_t n = ps->nfields ? ps->nfields : 1;
        c->field_cache = calloc(n, sizeof *c->field_cache);
        c->field_done = calloc(n, 1);
        if (!c->field_cache || !c->field_done) {
            destroy(c);
            return NULL;
        }
    }
    c->ps = ps;
    c->stage_name = stage_name;
    c->event = event;
    c->d = d;
    c->shadow = shadow;
    c->deadline_ns = deadline_ns;
    return c;
}

int vd_plugin_call_score(vd_plugin_call_t *c) {
    const vd_plugin_stage_t *ps = c->ps;
    vd_plugin_activity_t saved = vd_plugin_activity_enter(ps->lib, ps, "score");
    int status = ps->lib->desc->score(ps->instance, c);
    vd_plugin_activity_leave(saved);
    return status;
}

static int merge_one(const vd_plugin_call_t *c, const vd_plugin_out_t *o, vd_decision_t *d) {
    switch (o->kind) {
    case VD_OUT_SCORE:
        return vd_decision_add_reason(d, c->shadow, o->rule, c->stage_name, o->score, o->detail,
                                      o->detail ? strlen(o->detail) : 0);
    case VD_OUT_TAG:
        return vd_decision_add_tag(d, c->shadow, o->tag, strlen(o->tag));
    case VD_OUT_FEATURE: {
        const char *name = c->ps->features[o->feature - 1];
        return vd_decision_set_feature(d, c->shadow, name, strlen(name), &o->value);
    }
    }
    return 0;
}

int vd_plugin_call_merge(const vd_plugin_call_t *c, vd_decision_t *d) {
    for (int i = 0; i < c->ncampaigns; i++)
        vd_decision_note_campaign(d, c->campaigns[i].kind, c->campaigns[i].id);
    /* Named as the plugin's other faults are: the stage, and the plugin in the rule's place. */
    const char *who = c->ps && c->ps->lib ? c->ps->lib->desc->name : c->stage_name;
    if (c->fell_back[0] && vd_decision_add_fault(d, c->stage_name, who, c->fell_back) != 0)
        return VD_ENOMEM;
    for (size_t i = 0; i < c->nouts; i++) {
        const vd_plugin_out_t *o = &c->outs[i];
        /* Reason rule names must outlive the call: copy them into the request arena. */
        vd_plugin_out_t copy = *o;
        if (o->kind == VD_OUT_SCORE) {
            const char *rule = o->rule ? o->rule : c->stage_name;
            if (!(copy.rule = vd_arena_strndup(d->arena, rule, strlen(rule)))) return VD_ENOMEM;
        }
        int rc = merge_one(c, &copy, d);
        if (rc) return rc;
    }
    return 0;
}

void vd_plugin_call_pack(const vd_plugin_call_t *c, msgpack_sbuffer *sb) {
    vd_mp_array(sb, (uint32_t)c->nouts);
    for (size_t i = 0; i < c->nouts; i++) {
        const vd_plugin_out_t *o = &c->outs[i];
        switch (o->kind) {
        case VD_OUT_SCORE:
            vd_mp_map(sb, o->detail ? 3 : 2);
            VD_MP_LIT(sb, "score");
            vd_mp_double(sb, o->score);
            VD_MP_LIT(sb, "rule");
            vd_mp_cstr(sb, o->rule ? o->rule : c->stage_name);
            if (o->detail) {
                VD_MP_LIT(sb, "detail");
                vd_mp_cstr(sb, o->detail);
            }
            break;
        case VD_OUT_TAG:
            vd_mp_map(sb, 1);
            VD_MP_LIT(sb, "tag");
            vd_mp_cstr(sb, o->tag);
            break;
        case VD_OUT_FEATURE:
            vd_mp_map(sb, 2);
            VD_MP_LIT(sb, "feature");
            vd_mp_cstr(sb, c->ps->features[o->feature - 1]);
            VD_MP_LIT(sb, "value");
            vd_value_pack(sb, &o->value);
            break;
        }
    }
}

void vd_plugin_call_json(const vd_plugin_call_t *c, vd_jbuf_t *j) {
    VD_JSON_LIT(j, "[");
    for (size_t i = 0; i < c->nouts; i++) {
        const vd_plugin_out_t *o = &c->outs[i];
        if (i) VD_JSON_LIT(j, ",");
        switch (o->kind) {
        case VD_OUT_SCORE:
            VD_JSON_LIT(j, "{\"score\":");
            vd_json_double(j, o->score);
            VD_JSON_LIT(j, ",\"rule\":");
            vd_json_cstr(j, o->rule ? o->rule : c->stage_name);
            if (o->detail) {
                VD_JSON_LIT(j, ",\"detail\":");
                vd_json_cstr(j, o->detail);
            }
            break;
        case VD_OUT_TAG:
            VD_JSON_LIT(j, "{\"tag\":");
            vd_json_cstr(j, o->tag);
            break;
        case VD_OUT_FEATURE:
            VD_JSON_LIT(j, "{\"feature\":");
            vd_json_cstr(j, c->ps->features[o->feature - 1]);
            VD_JSON_LIT(j, ",\"value\":");
            vd_value_json(j, &o->value);
            break;
        }
        VD_JSON_LIT(j, "}");
    }
    VD_JSON_LIT(j, "]");
}

void vd_plugin_call_set_error(vd_plugin_call_t *c, const char *message) {
    free(c->error);
    c->error = message ? strdup(message) : NULL;
}

void vd_plugin_call_free(vd_plugin_call_t *c) {
    if (!c) return;
    if (c->host_waits > 0) { /* an answer from Redis still points at it: freed when it comes */
        c->free_later = 1;
        return;
    }
    /* An abandoned call may outlive its stage: it must not touch it. */
    vd_plugin_stage_t *ps = atomic_load(&c->state) == VD_CALL_ABANDONED ? NULL : c->ps;
    if (ps && !ps->spare && !ps->closing) { /* kept for the stage's next call */
        clear_outputs(c);
        ps->spare = c;
        return;
    }
    destroy(c);
}

void vd_plugin_call_answer_came(vd_plugin_call_t *c) {
    if (--c->host_waits == 0 && c->free_later)
        destroy(c); /* its stage may be gone by now: never kept as a spare */
}

void vd_plugin_call_drop_spare(vd_plugin_stage_t *ps) {
    if (ps->spare) destroy(ps->spare);
    ps->spare = NULL;
}

void vd__plugin_complete(vd_plugin_call_t *c, int status) {
    if (!c || !c->host) return;
    c->status = status == VD_PLUGIN_OK ? VD_PLUGIN_OK : VD_PLUGIN_ERROR;
    int expected = VD_CALL_PENDING;
    if (!atomic_compare_exchange_strong(&c->state, &expected, VD_CALL_COMPLETED)) return;
    c->host->completed(c, c->host->ud);
}
