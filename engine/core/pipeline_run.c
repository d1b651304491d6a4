#include "pipeline_run.h"

#include "../lua/lua_bindings.h"
#include "error.h"
#include "stats.h"

#include <lauxlib.h>
#include <string.h>
#include <time.h>

int64_t vd_now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* Stack slots the run keeps for the whole pipeline. */
typedef struct {
    lua_State *L;
    vd_exec_t *ex;
    const vd_stage_t *stage;
    int ev, ctx;
} run_t;

static vd_outcome_t *outcome(run_t *r) {
    return r->stage->shadow ? &r->ex->d->shadow : &r->ex->d->main;
}

/* Records a rule failure; with on_error set, the stage's side stops with that action. */
static void fault(run_t *r, const vd_rule_t *rule, vd_trace_rule_t *tr) {
    const char *msg = lua_tostring(r->L, -1);
    if (!msg) msg = "rule raised a non-string error";
    vd_decision_add_fault(r->ex->d, r->stage->name, rule->name, msg);
    if (tr) tr->error = VD_VEC_AT(r->ex->d->faults, vd_fault_t, r->ex->d->faults.len - 1).message;
    if (r->stage->stats) vd_counter_add(&r->stage->stats->errors, 1);
    vd_outcome_t *o = outcome(r);
    if (r->stage->on_error && !o->stop_action) {
        o->stop_action = r->stage->on_error;
        o->stop_rule = rule->name;
    }
}

/* Calls the function in the registry slot ref with (ev, ctx); leaves nres results. */
static int call(run_t *r, int ref, int nres) {
    lua_rawgeti(r->L, LUA_REGISTRYINDEX, ref);
    lua_pushvalue(r->L, r->ev);
    lua_pushvalue(r->L, r->ctx);
    return vd_lua_pcall(r->L, 2, nres);
}

static int fire(run_t *r, const vd_rule_t *rule, const char *detail, size_t dlen,
                vd_trace_rule_t *tr) {
    lua_State *L = r->L;
    double score = rule->score;
    if (rule->score_ref != LUA_NOREF) {
        if (call(r, rule->score_ref, 1) != LUA_OK) {
            fault(r, rule, tr);
            lua_pop(L, 1);
            return 0;
        }
        int isnum;
        score = lua_tonumberx(L, -1, &isnum);
        lua_pop(L, 1);
        if (!isnum || score != score) {
            lua_pushfstring(L, "%s:%d: score function of rule '%s' returned no number", rule->file,
                            rule->line, rule->name);
            fault(r, rule, tr);
            lua_pop(L, 1);
            return 0;
        }
    }
    vd_decision_t *d = r->ex->d;
    int shadow = r->stage->shadow;
    int rc = vd_decision_add_reason(d, shadow, rule->name, r->stage->name, score, detail, dlen);
    for (size_t t = 0; rc == 0 && t < rule->ntags; t++)
        rc = vd_decision_add_tag(d, shadow, rule->tags[t], strlen(rule->tags[t]));
    vd_outcome_t *o = outcome(r);
    if (rule->stop && !o->stop_action) {
        o->stop_action = rule->stop;
        o->stop_rule = rule->name;
    }
    if (tr) {
        tr->fired = 1;
        tr->score = score;
    }
    if (r->stage->stats) vd_counter_add(&r->stage->stats->fired, 1);
    return rc;
}

static int run_rule(run_t *r, const vd_rule_t *rule, vd_trace_stage_t *ts) {
    lua_State *L = r->L;
    vd_trace_rule_t *tr = NULL;
    if (ts && !(tr = vd_vec_push(&ts->rules, r->ex->d->arena, sizeof *tr))) return VD_ENOMEM;
    if (tr) tr->rule = rule->name;
    r->ex->rule = rule->name;
    if (call(r, rule->when_ref, 2) != LUA_OK) {
        fault(r, rule, tr);
        lua_pop(L, 1);
        return 0;
    }
    int rc = 0;
    if (lua_toboolean(L, -2)) {
        size_t dlen = 0;
        const char *detail = lua_type(L, -1) == LUA_TSTRING || lua_type(L, -1) == LUA_TNUMBER
                                 ? lua_tolstring(L, -1, &dlen)
                                 : NULL;
        rc = fire(r, rule, detail, dlen, tr);
    }
    lua_pop(L, 2);
    return rc;
}

static const char *by_thresholds(const vd_pipeline_t *pl, double score) {
    const char *action = pl->default_action;
    for (size_t i = 0; i < pl->nactions; i++)
        if (score >= pl->actions[i].bound) action = pl->actions[i].name;
    return action;
}

static int run_stage(run_t *r, vd_trace_stage_t *ts, int64_t deadline_ns) {
    const vd_stage_t *st = r->stage;
    vd_outcome_t *o = outcome(r);
    for (size_t i = 0; i < st->nrules && !o->stop_action; i++) {
        if (deadline_ns && vd_now_ns() > deadline_ns) return VD_ETIMEOUT;
        int rc = run_rule(r, st->rules[i], ts);
        if (rc) return rc;
    }
    return 0;
}

int vd_pipeline_run(vd_policy_t *p, const vd_pipeline_t *pl, const msgpack_object *event,
                    vd_decision_t *d, int64_t deadline_ns) {
    lua_State *L = p->L;
    vd_lstate_t *ls = vd_lua_ls(L);
    vd_exec_t ex = {.d = d, .actions = pl->action_names};
    int top = lua_gettop(L);
    ls->gen++;
    ls->exec = &ex;
    vd_lua_push_event(L, event);
    vd_lua_push_ctx(L);
    run_t r = {.L = L, .ex = &ex, .ev = top + 1, .ctx = top + 2};
    int rc = 0;
    for (size_t s = 0; s < pl->nstages && rc == 0 && !d->main.stop_action; s++) {
        r.stage = &pl->stages[s];
        ex.stage = r.stage->name;
        ex.shadow = r.stage->shadow;
        if (r.stage->shadow) d->has_shadow = 1;
        vd_trace_stage_t *ts = NULL;
        if (d->explain && !(ts = vd_vec_push(&d->trace, d->arena, sizeof *ts))) rc = VD_ENOMEM;
        double before = outcome(&r)->score;
        int64_t t0 = vd_now_ns();
        if (rc == 0) rc = run_stage(&r, ts, deadline_ns);
        int64_t took = vd_now_ns() - t0;
        if (r.stage->stats) {
            vd_counter_add(&r.stage->stats->count, 1);
            vd_hist_add(&r.stage->stats->latency, took);
        }
        if (ts) {
            ts->stage = r.stage->name;
            ts->shadow = r.stage->shadow;
            ts->elapsed_ns = took;
            ts->score = outcome(&r)->score - before;
        }
    }
    ls->exec = NULL;
    ls->gen++;
    lua_settop(L, top);
    if (rc) return rc;
    d->action = d->main.stop_action ? d->main.stop_action : by_thresholds(pl, d->main.score);
    if (d->has_shadow) {
        const char *stop = d->main.stop_action ? d->main.stop_action : d->shadow.stop_action;
        d->shadow_action = stop ? stop : by_thresholds(pl, d->main.score + d->shadow.score);
    }
    return 0;
}
