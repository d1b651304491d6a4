#include "explain_pack.h"

#include "decision_pack.h"
#include "proto/mpbuf.h"

#include <stdio.h>
#include <string.h>

/* {"op": "campaign", "key": "text:...", ["source": ...,] "result": view or nil} */
static void pack_campaign(msgpack_sbuffer *sb, const vd_observed_t *o) {
    vd_mp_map(sb, 3 + (o->value != NULL));
    VD_MP_LIT(sb, "op");
    vd_mp_cstr(sb, vd_obs_name(o->kind));
    VD_MP_LIT(sb, "key");
    vd_mp_str(sb, o->name, o->len);
    if (o->value) {
        VD_MP_LIT(sb, "source");
        vd_mp_str(sb, o->value, o->vlen);
    }
    VD_MP_LIT(sb, "result");
    if (o->plen)
        vd_mp_raw(sb, o->packed, o->plen);
    else
        vd_mp_nil(sb);
}

void vd_observed_pack(msgpack_sbuffer *sb, const vd_observed_t *o) {
    if (o->kind == VD_OBS_CAMPAIGN) {
        pack_campaign(sb, o);
        return;
    }
    if (o->kind == VD_OBS_PROFILE || o->kind == VD_OBS_ANOMALY) { /* packed by the binding */
        vd_mp_map(sb, 3);
        VD_MP_LIT(sb, "op");
        vd_mp_cstr(sb, vd_obs_name(o->kind));
        VD_MP_LIT(sb, "key");
        vd_mp_str(sb, o->name, o->len);
        VD_MP_LIT(sb, "result");
        vd_mp_raw(sb, o->packed, o->plen);
        return;
    }
    int extra = o->kind == VD_OBS_COUNTER || (o->kind == VD_OBS_DISTINCT && o->value);
    vd_mp_map(sb, 3 + (uint32_t)extra);
    VD_MP_LIT(sb, "op");
    vd_mp_cstr(sb, vd_obs_name(o->kind));
    VD_MP_LIT(sb, "key");
    vd_mp_str(sb, o->name, o->len);
    if (o->kind == VD_OBS_COUNTER) {
        VD_MP_LIT(sb, "n");
        vd_mp_int(sb, o->n);
    } else if (extra) {
        VD_MP_LIT(sb, "value");
        vd_mp_str(sb, o->value, o->vlen);
    }
    VD_MP_LIT(sb, "result");
    if (o->kind == VD_OBS_COUNTER) {
        vd_mp_array(sb, VD_OBS_RESULTS);
        for (int w = 0; w < VD_OBS_RESULTS; w++)
            vd_mp_int(sb, o->res[w]);
    } else if (o->kind == VD_OBS_LABELED && o->res[0] < 0) {
        vd_mp_nil(sb);
    } else {
        vd_mp_int(sb, o->res[0]);
    }
}

/* read: {"features": {name: value or null}, "state": [reads], "lookups": [{in, value, hit,
 * entry?}]} */
static void pack_lookups(msgpack_sbuffer *sb, const vd_vec_t *lookups) {
    vd_mp_array(sb, lookups->len);
    for (uint32_t i = 0; i < lookups->len; i++) {
        const vd_trace_lookup_t *lk = &VD_VEC_AT(*lookups, vd_trace_lookup_t, i);
        vd_mp_map(sb, 3 + (lk->entry != NULL));
        VD_MP_LIT(sb, "in");
        vd_mp_cstr(sb, lk->in);
        VD_MP_LIT(sb, "value");
        vd_mp_cstr(sb, lk->value);
        VD_MP_LIT(sb, "hit");
        vd_mp_bool(sb, lk->hit);
        if (lk->entry) {
            VD_MP_LIT(sb, "entry");
            vd_mp_cstr(sb, lk->entry);
        }
    }
}

static void pack_reads(msgpack_sbuffer *sb, const vd_decision_t *d, const vd_trace_rule_t *r) {
    vd_mp_map(sb, 3);
    VD_MP_LIT(sb, "features");
    vd_mp_map(sb, r->reads.len);
    for (uint32_t i = 0; i < r->reads.len; i++) {
        const vd_trace_read_t *rd = &VD_VEC_AT(r->reads, vd_trace_read_t, i);
        vd_mp_cstr(sb, rd->name);
        if (rd->found)
            vd_value_pack(sb, &rd->value);
        else
            vd_mp_nil(sb);
    }
    VD_MP_LIT(sb, "state");
    vd_mp_array(sb, r->obs_to - r->obs_from);
    for (uint32_t i = r->obs_from; i < r->obs_to; i++)
        vd_observed_pack(sb, &VD_VEC_AT(d->observed, vd_observed_t, i));
    VD_MP_LIT(sb, "lookups");
    pack_lookups(sb, &r->lookups);
}

/* A plugin call's outputs: the entry its stage left in observed (packed there). */
static void pack_outputs(msgpack_sbuffer *sb, const vd_decision_t *d, const vd_trace_rule_t *r) {
    for (uint32_t i = r->obs_from; i < r->obs_to; i++) {
        const vd_observed_t *o = &VD_VEC_AT(d->observed, vd_observed_t, i);
        if (o->kind == VD_OBS_PLUGIN) {
            vd_mp_raw(sb, o->packed, o->plen);
            return;
        }
    }
    vd_mp_nil(sb);
}

static void pack_rule(msgpack_sbuffer *sb, const vd_decision_t *d, const vd_trace_rule_t *r,
                      int plugin) {
    vd_mp_map(sb, 4 + (r->description != NULL) + (r->detail != NULL) + (r->error != NULL) +
                      (r->stop != NULL) + (r->skipped != NULL));
    VD_MP_LIT(sb, "rule");
    vd_mp_cstr(sb, r->rule);
    if (r->description) {
        VD_MP_LIT(sb, "description");
        vd_mp_cstr(sb, r->description);
    }
    VD_MP_LIT(sb, "fired");
    vd_mp_bool(sb, r->fired);
    VD_MP_LIT(sb, "score");
    vd_mp_double(sb, r->score);
    if (r->detail) {
        VD_MP_LIT(sb, "detail");
        vd_mp_cstr(sb, r->detail);
    }
    if (r->error) {
        VD_MP_LIT(sb, "error");
        vd_mp_cstr(sb, r->error);
    }
    if (r->stop) {
        VD_MP_LIT(sb, "stop");
        vd_mp_cstr(sb, r->stop);
    }
    if (r->skipped) {
        VD_MP_LIT(sb, "skipped");
        vd_mp_cstr(sb, r->skipped);
    }
    if (plugin) {
        VD_MP_LIT(sb, "outputs");
        pack_outputs(sb, d, r);
    } else {
        VD_MP_LIT(sb, "read");
        pack_reads(sb, d, r);
    }
}

void vd_trace_pack(msgpack_sbuffer *sb, const vd_decision_t *d) {
    vd_mp_array(sb, d->trace.len);
    for (uint32_t i = 0; i < d->trace.len; i++) {
        const vd_trace_stage_t *t = &VD_VEC_AT(d->trace, vd_trace_stage_t, i);
        vd_mp_map(sb, 5 + (t->description != NULL) + (t->plugin != NULL) + (t->skipped != NULL));
        VD_MP_LIT(sb, "stage");
        vd_mp_cstr(sb, t->stage);
        if (t->description) {
            VD_MP_LIT(sb, "description");
            vd_mp_cstr(sb, t->description);
        }
        if (t->plugin) {
            VD_MP_LIT(sb, "plugin");
            vd_mp_cstr(sb, t->plugin);
        }
        if (t->skipped) {
            VD_MP_LIT(sb, "skipped");
            vd_mp_cstr(sb, t->skipped);
        }
        VD_MP_LIT(sb, "shadow");
        vd_mp_bool(sb, t->shadow);
        VD_MP_LIT(sb, "elapsed_us");
        vd_mp_double(sb, (double)t->elapsed_ns / 1000.0);
        VD_MP_LIT(sb, "score");
        vd_mp_double(sb, t->score);
        VD_MP_LIT(sb, "rules");
        vd_mp_array(sb, t->rules.len);
        for (uint32_t k = 0; k < t->rules.len; k++)
            pack_rule(sb, d, &VD_VEC_AT(t->rules, vd_trace_rule_t, k), t->plugin != NULL);
    }
}

/* Why score (with the stop, if any) chose action: "score 8 >= challenge 5", "rule 'x' stopped
 * the pipeline with 'allow'", "score 3 is below every threshold: allow". */
static void because(char *buf, size_t n, const vd_decision_t *d, double score,
                    const vd_outcome_t *stopped, const char *action) {
    if (stopped) {
        snprintf(buf, n, "rule '%s' stopped the pipeline with '%s'",
                 stopped->stop_rule ? stopped->stop_rule : "?", stopped->stop_action);
        return;
    }
    const vd_trace_bound_t *hit = NULL, *first = NULL;
    for (uint32_t i = 0; i < d->bounds.len; i++) {
        const vd_trace_bound_t *b = &VD_VEC_AT(d->bounds, vd_trace_bound_t, i);
        if (!first) first = b;
        if (score >= b->at) hit = b;
    }
    if (hit)
        snprintf(buf, n, "score %g >= %s %g", score, hit->action, hit->at);
    else if (first)
        snprintf(buf, n, "score %g is below every threshold (the lowest: %s %g): %s", score,
                 first->action, first->at, action ? action : "?");
    else
        snprintf(buf, n, "the pipeline has no thresholds: %s", action ? action : "?");
}

static void pack_outcome(msgpack_sbuffer *sb, const vd_decision_t *d, double score,
                         const vd_outcome_t *stopped, const char *action) {
    char text[400];
    because(text, sizeof text, d, score, stopped, action);
    VD_MP_LIT(sb, "score");
    vd_mp_double(sb, score);
    VD_MP_LIT(sb, "action");
    vd_mp_cstr(sb, action ? action : "");
    VD_MP_LIT(sb, "because");
    vd_mp_cstr(sb, text);
}

void vd_why_pack(msgpack_sbuffer *sb, const vd_decision_t *d) {
    vd_mp_map(sb, 5 + d->has_shadow);
    pack_outcome(sb, d, d->main.score, d->main.stop_action ? &d->main : NULL, d->action);
    VD_MP_LIT(sb, "thresholds");
    vd_mp_array(sb, d->bounds.len);
    for (uint32_t i = 0; i < d->bounds.len; i++) {
        const vd_trace_bound_t *b = &VD_VEC_AT(d->bounds, vd_trace_bound_t, i);
        vd_mp_map(sb, 2);
        VD_MP_LIT(sb, "action");
        vd_mp_cstr(sb, b->action);
        VD_MP_LIT(sb, "at");
        vd_mp_double(sb, b->at);
    }
    VD_MP_LIT(sb, "default");
    vd_mp_cstr(sb, d->default_action ? d->default_action : "");
    if (d->has_shadow) {
        const vd_outcome_t *stopped = d->main.stop_action     ? &d->main
                                      : d->shadow.stop_action ? &d->shadow
                                                              : NULL;
        VD_MP_LIT(sb, "shadow");
        vd_mp_map(sb, 3);
        pack_outcome(sb, d, d->main.score + d->shadow.score, stopped, d->shadow_action);
    }
}
