#include "trace.h"

#include "base/error.h"
#include "plugin/stage.h"

#include <stdio.h>
#include <string.h>

const char *vd_trace_skip_reason(vd_decision_t *d, const vd_outcome_t *o) {
    if (!o->stop_action) return "the stage ran past its timeout_ms";
    char why[300];
    snprintf(why, sizeof why, "rule '%s' stopped the pipeline with '%s'",
             o->stop_rule ? o->stop_rule : "?", o->stop_action);
    const char *kept = vd_arena_strndup(d->arena, why, strlen(why));
    return kept ? kept : "an earlier rule stopped the pipeline";
}

int vd_trace_skipped(vd_decision_t *d, vd_trace_stage_t *ts, const vd_stage_t *st, size_t first,
                     const char *why) {
    for (size_t i = first; i < st->nrules; i++) {
        vd_trace_rule_t *tr = vd_vec_push(&ts->rules, d->arena, sizeof *tr);
        if (!tr) return VD_ENOMEM;
        tr->rule = st->rules[i]->name;
        tr->description = st->rules[i]->description;
        tr->skipped = why;
        tr->obs_from = tr->obs_to = d->observed.len;
    }
    return 0;
}

vd_trace_stage_t *vd_trace_stage_new(vd_decision_t *d, const vd_stage_t *st) {
    vd_trace_stage_t *ts = vd_vec_push(&d->trace, d->arena, sizeof *ts);
    if (!ts) return NULL;
    ts->stage = st->name;
    ts->description = st->description;
    ts->shadow = st->shadow;
    if (st->kind == VD_STAGE_PLUGIN) ts->plugin = st->plugin->lib->desc->name;
    return ts;
}

int vd_trace_explain_rest(const vd_pipeline_t *pl, size_t next_stage, vd_decision_t *d) {
    const char *why = next_stage < pl->nstages ? vd_trace_skip_reason(d, &d->main) : NULL;
    for (size_t i = next_stage; i < pl->nstages; i++) {
        vd_trace_stage_t *ts = vd_trace_stage_new(d, &pl->stages[i]);
        if (!ts) return VD_ENOMEM;
        ts->skipped = why;
        if (vd_trace_skipped(d, ts, &pl->stages[i], 0, why) != 0) return VD_ENOMEM;
    }
    d->default_action = pl->default_action;
    for (size_t i = 0; i < pl->nactions; i++) {
        vd_trace_bound_t *b = vd_vec_push(&d->bounds, d->arena, sizeof *b);
        if (!b) return VD_ENOMEM;
        b->action = pl->actions[i].name;
        b->at = pl->actions[i].bound;
    }
    return 0;
}

vd_trace_stage_t *vd_trace_current(vd_decision_t *d) {
    return d->explain && d->trace.len ? &VD_VEC_AT(d->trace, vd_trace_stage_t, d->trace.len - 1)
                                      : NULL;
}
