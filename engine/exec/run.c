#include "run.h"

#include "base/clock.h"
#include "base/error.h"
#include "base/stats.h"
#include "decision/recorded.h"
#include "fault_log.h"
#include "lua/freeze.h"
#include "lua/lua_ctx.h"
#include "lua/lua_format.h"
#include "lua/lua_view.h"
#include "lua/lua_when.h"
#include "lua/state.h"
#include "plugin/call.h"
#include "proto/mpbuf.h"
#include "recorded_outputs.h"
#include "state/state_op.h"
#include "trace.h"

#include <lauxlib.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Stack slots the run keeps for its Lua stages. */
typedef struct run {
    lua_State *L;
    vd_exec_t *ex;
    const vd_stage_t *stage;
    const msgpack_object *event;
    int ev, ctx; /* stack slots of the event view and ctx; 0 until a Lua stage needs them */
    vd_run_state_t *rs;
    vd_rule_stat_t *rule_stat; /* the figures of the rule running now; NULL: not counted */
    const vd_reason_head_t *reason_head; /* how the log's line starts its reason, or NULL */
} run_t;

static vd_outcome_t *side_of(vd_decision_t *d, const vd_stage_t *st) {
    return st->shadow ? &d->shadow : &d->main;
}

/* A stage's figures, or NULL: a report's run (decision.h, reporting) is not a decision and
 * is counted in none. */
static struct vd_stat_node *figures(const vd_decision_t *d, const vd_stage_t *st) {
    return d->reporting ? NULL : st->stats;
}

/* Records a failure of a rule or plugin, without a log line; with on_error set, the stage's
 * side stops. */
static void note_fault(vd_decision_t *d, const vd_stage_t *st, const char *rule, const char *msg,
                       vd_trace_rule_t *tr) {
    vd_decision_add_fault(d, st->name, rule, msg);
    if (tr && d->faults.len)
        tr->error = VD_VEC_AT(d->faults, vd_fault_t, d->faults.len - 1).message;
    if (figures(d, st)) vd_counter_add(&st->stats->errors, 1);
    vd_outcome_t *o = side_of(d, st);
    if (st->on_error && !o->stop_action) {
        o->stop_action = st->on_error;
        o->stop_rule = rule;
    }
}

/* A failure of a plugin, or of a stage itself, logged under the stage's limit. */
static void record_fault(vd_decision_t *d, const vd_stage_t *st, const char *rule, const char *msg,
                         vd_trace_rule_t *tr) {
    note_fault(d, st, rule, msg, tr);
    vd_fault_log_stage(st, rule, msg);
}

/* A failure of the rule that runs: counted and logged under the rule's own limit, so that one
 * rule failing on every request (a misspelt global) cannot hide another. */
static void rule_fault(run_t *r, const vd_rule_t *rule, const char *msg, vd_trace_rule_t *tr) {
    note_fault(r->ex->d, r->stage, rule->name, msg, tr);
    if (!r->rule_stat) return; /* offline runs report faults in their results */
    vd_counter_add(&r->rule_stat->faults, 1);
    vd_fault_log_rule(r->rule_stat, rule, msg);
}

/* A rule's call stopped at its stage's timeout: what the run does next. */
#define STAGE_TIMED_OUT 1

/* The error on top of S (a call that ended with status) as a fault of rule. A call the budget
 * hook interrupted says why: past the request's deadline the run ends (VD_ETIMEOUT), past the
 * stage's timeout the stage ends (STAGE_TIMED_OUT), out of memory the state gives its memory
 * back. Returns 0 otherwise. */
static int lua_fault(run_t *r, lua_State *S, int status, const vd_rule_t *rule,
                     vd_trace_rule_t *tr) {
    vd_lstate_t *ls = vd_lua_ls(r->L);
    /* Only a string is read: converting a number would allocate outside a protected call. */
    const char *msg = lua_type(S, -1) == LUA_TSTRING ? lua_tostring(S, -1) : NULL;
    char buf[800];
    if (ls->stop == VD_LUA_STOP_DEADLINE && r->ex->deadline_ns && vd_now_ns() > r->ex->deadline_ns)
        return VD_ETIMEOUT;
    if (ls->stop == VD_LUA_STOP_DEADLINE) {
        snprintf(buf, sizeof buf,
                 "%s (stage '%s' has timeout_ms = %d; its other rules were skipped)",
                 msg ? msg : "deadline passed", r->stage->name, r->stage->timeout_ms);
        if (figures(r->ex->d, r->stage)) vd_counter_add(&r->stage->stats->timeouts, 1);
        rule_fault(r, rule, buf, tr);
        return STAGE_TIMED_OUT;
    }
    if (status == LUA_ERRMEM && ls->stop != VD_LUA_STOP_MEMORY) { /* the hard cap: no line */
        snprintf(buf, sizeof buf,
                 "%s:%d: rule '%s' ran out of memory: the policy's Lua state reached its cap "
                 "(%zu MiB)",
                 rule->file, rule->line, rule->name, ls->limits.mem_limit >> 20);
        msg = buf;
    }
    rule_fault(r, rule, msg ? msg : "rule raised a non-string error", tr);
    if (status == LUA_ERRMEM || ls->stop == VD_LUA_STOP_MEMORY) vd_lua_reclaim(r->L);
    return 0;
}

/* Calls the function in the registry slot ref with (ev, ctx); leaves nres results. */
static int call(run_t *r, int ref, int nres) {
    lua_rawgeti(r->L, LUA_REGISTRYINDEX, ref);
    lua_pushvalue(r->L, r->ev);
    lua_pushvalue(r->L, r->ctx);
    return vd_lua_pcall(r->L, 2, nres);
}

/* Reads the score a score function left at idx of S; 0, or -1 with a fault recorded. */
static int check_score(run_t *r, lua_State *S, int idx, const vd_rule_t *rule, vd_trace_rule_t *tr,
                       double *score) {
    int isnum;
    *score = lua_tonumberx(S, idx, &isnum);
    if (isnum && isfinite(*score)) return 0; /* an infinity would make the total NaN */
    char msg[512];
    snprintf(msg, sizeof msg, "%s:%d: score function of rule '%s' returned %s", rule->file,
             rule->line, rule->name, isnum ? "a number that is not finite" : "no number");
    rule_fault(r, rule, msg, tr);
    return -1;
}

/* Applies a rule that fired with its score. */
static int fire(run_t *r, const vd_rule_t *rule, const char *detail, size_t dlen,
                vd_trace_rule_t *tr, double score) {
    vd_decision_t *d = r->ex->d;
    int shadow = r->stage->shadow;
    int rc = vd_decision_add_reason(d, shadow, rule->name, r->stage->name, score, detail, dlen);
    if (rc == 0 && r->reason_head && r->reason_head->text) {
        vd_vec_t *reasons = &side_of(d, r->stage)->reasons;
        vd_reason_t *added = &VD_VEC_AT(*reasons, vd_reason_t, reasons->len - 1);
        added->head = r->reason_head->text;
        added->head_len = r->reason_head->len;
    }
    for (size_t t = 0; rc == 0 && t < rule->ntags; t++)
        rc = vd_decision_add_lasting_tag(d, shadow, rule->tags[t]);
    if (rc == 0 && r->stage->as_features) { /* for the models of later stages */
        char name[160];
        int n = snprintf(name, sizeof name, "rule.%s", rule->name);
        vd_value_t v = {.type = VD_VAL_NUM, .u.n = score};
        if (n > 0 && (size_t)n < sizeof name)
            rc = vd_decision_set_feature(d, shadow, name, (size_t)n, &v);
    }
    vd_outcome_t *o = side_of(d, r->stage);
    if (rule->stop && !o->stop_action) {
        o->stop_action = rule->stop;
        o->stop_rule = rule->name;
    }
    if (tr) {
        tr->fired = 1;
        tr->score = score;
        const vd_vec_t *reasons = &o->reasons;
        if (rc == 0 && reasons->len)
            tr->detail = VD_VEC_AT(*reasons, vd_reason_t, reasons->len - 1).detail;
        if (o->stop_rule == rule->name) tr->stop = o->stop_action;
    }
    if (figures(r->ex->d, r->stage)) vd_counter_add(&r->stage->stats->fired, 1);
    if (r->rule_stat) vd_counter_add(&r->rule_stat->fired, 1);
    return rc;
}

/* string.format(fmt, ...) for a detail: (fmt, args...) -> text, run protected. */
static int format_detail(lua_State *L) {
    int n = lua_gettop(L);
    lua_rawgeti(L, LUA_REGISTRYINDEX, vd_lua_ls(L)->format_ref);
    lua_insert(L, 1);
    lua_call(L, n, 1);
    return 1;
}

/* The detail of a rule that fired: what its when function returned after the hit, at
 * first..last of S. Without a detail format: the first of those values when it is a string or a
 * number. With one (the rule's `detail`), the values are its arguments, formatted now as
 * string.format does, so that a rule pays for formatting only when it fires. Returns 0, or -1
 * with a fault recorded. */
static int take_detail(run_t *r, lua_State *S, int first, int last, const vd_rule_t *rule,
                       vd_trace_rule_t *tr, const char **detail, size_t *dlen, char *buf,
                       size_t cap) {
    *detail = NULL;
    *dlen = 0;
    if (!rule->detail) {
        int t = first <= last ? lua_type(S, first) : LUA_TNONE;
        if (t == LUA_TSTRING) {
            *detail = lua_tolstring(S, first, dlen);
        } else if (t == LUA_TNUMBER) { /* written here: a Lua string would allocate */
            int n = vd_lua_number_text(S, first, buf, cap);
            if (n >= 0) *detail = buf, *dlen = (size_t)n;
        }
        return 0;
    }
    int n = vd_lua_format(S, rule->detail, strlen(rule->detail), first, last, buf, cap);
    if (n >= 0) { /* the common conversions, without making Lua strings */
        *detail = buf;
        *dlen = (size_t)n;
        return 0;
    }
    /* Everything else: string.format itself, protected and under the budget (a __tostring
     * metamethod is Lua code too). */
    int nargs = last >= first ? last - first + 1 : 0;
    char why[400];
    if (!lua_checkstack(S, nargs + 3)) {
        snprintf(why, sizeof why, "too many values to format");
    } else {
        lua_pushcfunction(S, format_detail);
        lua_pushstring(S, rule->detail);
        for (int i = first; i <= last; i++)
            lua_pushvalue(S, i);
        if (vd_lua_pcall(S, nargs + 1, 1) == LUA_OK) {
            if (nargs > 0) lua_replace(S, first); /* else the text stays on top */
            *detail = lua_tolstring(S, nargs > 0 ? first : -1, dlen);
            return 0;
        }
        snprintf(why, sizeof why, "%s", lua_tostring(S, -1) ? lua_tostring(S, -1) : "failed");
        lua_pop(S, 1);
    }
    char msg[600];
    snprintf(msg, sizeof msg, "%s:%d: detail of rule '%s': %s", rule->file, rule->line, rule->name,
             why);
    rule_fault(r, rule, msg, tr);
    return -1;
}

/* Applies what a rule's functions returned, at first..last of S: hit, then the detail (or
 * the arguments of the rule's detail format), and, when the rule has a score function and
 * hit, its score last. */
static int conclude(run_t *r, lua_State *S, const vd_rule_t *rule, vd_trace_rule_t *tr, int first,
                    int last) {
    if (last < first || !lua_toboolean(S, first)) return 0;
    double score = rule->score;
    if (rule->score_ref != LUA_NOREF && check_score(r, S, last--, rule, tr, &score) != 0) return 0;
    const char *detail;
    size_t dlen;
    char buf[512];
    if (take_detail(r, S, first + 1, last, rule, tr, &detail, &dlen, buf, sizeof buf) != 0)
        return 0;
    return fire(r, rule, detail, dlen, tr, score);
}

/* A rule's entry in the stage's trace (with explain): the state reads and feature reads it
 * makes from now on are its own. */
static vd_trace_rule_t *new_trace(run_t *r, const vd_rule_t *rule, vd_trace_stage_t *ts, int *rc) {
    vd_trace_rule_t *tr = NULL;
    *rc = 0;
    if (ts && !(tr = vd_vec_push(&ts->rules, r->ex->d->arena, sizeof *tr))) *rc = VD_ENOMEM;
    if (tr) {
        tr->rule = rule->name;
        tr->description = rule->description;
        tr->obs_from = tr->obs_to = r->ex->d->observed.len;
    }
    r->ex->trace_rule = tr;
    return tr;
}

/* A rule starts: its trace entry (with explain) and its name for ctx. 0 or VD_ENOMEM. */
static int begin_rule(run_t *r, const vd_rule_t *rule, vd_trace_stage_t *ts, vd_trace_rule_t **tr) {
    int rc;
    *tr = new_trace(r, rule, ts, &rc);
    r->ex->rule = rule->name;
    return rc;
}

/* A rule whose when is a verdict.when condition: decided in C, without a Lua call (its score
 * function, if it has one, still runs in Lua). */
static int run_native(run_t *r, const vd_rule_t *rule, vd_trace_stage_t *ts) {
    lua_State *L = r->L;
    int top = lua_gettop(L);
    vd_trace_rule_t *tr;
    if (begin_rule(r, rule, ts, &tr)) return VD_ENOMEM;
    char buf[256], err[256];
    const char *detail;
    size_t dlen;
    lua_rawgeti(L, LUA_REGISTRYINDEX, rule->when_ref);
    int hit = vd_lua_cond_eval(L, -1, r->event, buf, sizeof buf, &detail, &dlen, err, sizeof err);
    lua_settop(L, top);
    if (hit < 0) {
        char msg[600];
        snprintf(msg, sizeof msg, "%s:%d: rule '%s': %s", rule->file, rule->line, rule->name, err);
        rule_fault(r, rule, msg, tr);
        return 0;
    }
    if (!hit) return 0;
    double score = rule->score;
    if (rule->score_ref != LUA_NOREF) {
        int status = call(r, rule->score_ref, 1);
        if (status != LUA_OK) {
            int rc = lua_fault(r, L, status, rule, tr);
            lua_settop(L, top);
            return rc;
        }
        int bad = check_score(r, L, -1, rule, tr, &score);
        lua_settop(L, top);
        if (bad) return 0;
    }
    return fire(r, rule, detail, dlen, tr, score);
}

/* A rule run to its end on the worker's stack. */
static int run_rule(run_t *r, const vd_rule_t *rule, vd_trace_stage_t *ts) {
    lua_State *L = r->L;
    int rc = 0, top = lua_gettop(L);
    vd_trace_rule_t *tr;
    if (begin_rule(r, rule, ts, &tr)) return VD_ENOMEM;
    int status = call(r, rule->when_ref, LUA_MULTRET);
    int hit = status == LUA_OK && top < lua_gettop(L) && lua_toboolean(L, top + 1);
    if (hit && rule->score_ref != LUA_NOREF) {
        if (!lua_checkstack(L, 3)) { /* the when function used up the stack */
            char msg[300];
            snprintf(msg, sizeof msg, "%s:%d: rule '%s' returned too many values", rule->file,
                     rule->line, rule->name);
            rule_fault(r, rule, msg, tr);
            lua_settop(L, top);
            return 0;
        }
        status = call(r, rule->score_ref, 1);
    }
    if (status != LUA_OK)
        rc = lua_fault(r, L, status, rule, tr);
    else
        rc = conclude(r, L, rule, tr, top + 1, lua_gettop(L));
    lua_settop(L, top);
    return rc;
}

/* ---- rules that may wait for state: run whole (when, then score) in a coroutine ---- */

/* Stack: when, score, ev, ctx, then when's results (hit, detail, format arguments), then the
 * score when the rule hit and has a score function; all of those after ctx are returned. */
static int rule_body_k(lua_State *L, int status, lua_KContext k) {
    (void)status;
    if (k == 1 && lua_toboolean(L, 5) && !lua_isnil(L, 2)) {
        lua_pushvalue(L, 2);
        lua_pushvalue(L, 3);
        lua_pushvalue(L, 4);
        lua_callk(L, 2, 1, 2, rule_body_k);
    }
    return lua_gettop(L) - 4;
}

static int rule_body(lua_State *L) {
    lua_pushvalue(L, 1);
    lua_pushvalue(L, 3);
    lua_pushvalue(L, 4);
    lua_callk(L, 2, LUA_MULTRET, 1, rule_body_k);
    return rule_body_k(L, LUA_OK, 1);
}

/* Creates a coroutine anchored in the registry: (thread, ref). */
static int new_thread(lua_State *L) {
    lua_State *co = lua_newthread(L);
    int ref = luaL_ref(L, LUA_REGISTRYINDEX);
    lua_pushlightuserdata(L, co);
    lua_pushinteger(L, ref);
    return 2;
}

/* A coroutine for a rule: the spare one when there is one; NULL when out of memory. */
static lua_State *take_thread(lua_State *L, int *ref) {
    vd_lstate_t *ls = vd_lua_ls(L);
    if (ls->spare_co) {
        lua_State *co = ls->spare_co;
        *ref = ls->spare_ref;
        ls->spare_co = NULL;
        ls->spare_ref = LUA_NOREF;
        return co;
    }
    /* Allocating may fail at the state's memory cap: protected, so that it is a fault. */
    lua_pushcfunction(L, new_thread);
    if (lua_pcall(L, 0, 2, 0) != LUA_OK) {
        lua_pop(L, 1);
        return NULL;
    }
    lua_State *co = lua_touserdata(L, -2);
    *ref = (int)lua_tointeger(L, -1);
    lua_pop(L, 2);
    return co;
}

/* Gives back a coroutine; one that finished cleanly is kept for the next rule. */
static void give_thread(lua_State *L, lua_State *co, int ref, int clean) {
    vd_lstate_t *ls = vd_lua_ls(L);
    if (clean && !ls->spare_co) {
        lua_settop(co, 0);
        ls->spare_co = co;
        ls->spare_ref = ref;
    } else {
        luaL_unref(L, LUA_REGISTRYINDEX, ref);
    }
}

/* A rule segment that assigned a guarded upvalue (lua/freeze.h) fails, whether it finished or
 * yielded (then its state operation is dropped): returns the status the rule ends with. */
static int check_guards(lua_State *L, lua_State *co, int status) {
    char msg[600];
    if (!vd_lua_guard_check(L, msg, sizeof msg)) return status;
    vd_lstate_t *ls = vd_lua_ls(L);
    if (ls->pending_op) vd_state_op_abandon(ls->pending_op); /* Redis has it: freed when done */
    ls->pending_op = NULL;
    vd_lua_push_message(L, msg); /* made on the main thread: co may be suspended */
    lua_xmove(L, co, 1);
    return LUA_ERRRUN;
}

/* Resumes a rule that waited for state, unless its budget or deadline ran out meanwhile: a
 * wait counts as VD_LUA_HOOK_STEP instructions, and the clock is read here, since a rule that
 * waits every few instructions may never reach the hook. Its memory allowance stays the one it
 * started with. Returns the status lua_resume would. */
static int resume_waiting(run_t *r, lua_State *co, const vd_rule_t *rule, int *nres) {
    vd_lstate_t *ls = vd_lua_ls(r->L);
    vd_run_state_t *rs = r->rs;
    int64_t left = rs->budget_left - VD_LUA_HOOK_STEP;
    vd_lua_stop_t stop = left <= 0                                          ? VD_LUA_STOP_BUDGET
                         : ls->deadline_ns && vd_now_ns() > ls->deadline_ns ? VD_LUA_STOP_DEADLINE
                                                                            : VD_LUA_RUNS;
    if (stop == VD_LUA_RUNS) {
        vd_lua_arm_budget(co, left, rs->mem_base);
        return lua_resume(co, r->L, 0, nres);
    }
    free(ls->resumed_op);
    ls->resumed_op = NULL;
    ls->stop = stop;
    char msg[600];
    snprintf(msg, sizeof msg, "%s:%d: rule '%s': %s", rule->file, rule->line, rule->name,
             stop == VD_LUA_STOP_BUDGET
                 ? "instruction budget exceeded (a wait for state counts as 1000)"
                 : "deadline passed while the rule waited for state");
    vd_lua_push_message(r->L, msg); /* made on the main thread: co is suspended */
    lua_xmove(r->L, co, 1);
    return LUA_ERRRUN;
}

static int run_rule_async(run_t *r, const vd_rule_t *rule, vd_trace_stage_t *ts) {
    lua_State *L = r->L, *co;
    vd_run_state_t *rs = r->rs;
    vd_lstate_t *ls = vd_lua_ls(L);
    int rc = 0, ref, nres, status;
    vd_trace_rule_t *tr;
    r->ex->rule = rule->name;
    if (rs->co) { /* back with the answer it waited for */
        co = rs->co;
        ref = rs->co_ref;
        rs->co = NULL;
        tr = ts && ts->rules.len ? &VD_VEC_AT(ts->rules, vd_trace_rule_t, ts->rules.len - 1) : NULL;
        r->ex->trace_rule = tr;
        ls->resumed_op = rs->op;
        rs->op = NULL;
        status = resume_waiting(r, co, rule, &nres);
    } else {
        if (!(tr = new_trace(r, rule, ts, &rc)) && rc) return rc;
        if (!(co = take_thread(L, &ref))) {
            char msg[256];
            snprintf(msg, sizeof msg, "%s:%d: rule '%s' could not start: out of Lua memory",
                     rule->file, rule->line, rule->name);
            rule_fault(r, rule, msg, tr);
            return 0;
        }
        lua_pushcfunction(co, rule_body);
        lua_rawgeti(co, LUA_REGISTRYINDEX, rule->when_ref);
        lua_rawgeti(co, LUA_REGISTRYINDEX, rule->score_ref);
        lua_pushvalue(L, r->ev);
        lua_pushvalue(L, r->ctx);
        lua_xmove(L, co, 2);
        vd_lua_arm_budget(co, 0, 0);
        rs->mem_base = ls->call_mem_base;
        status = lua_resume(co, L, 4, &nres);
    }
    rs->budget_left = vd_lua_disarm(co);
    status = check_guards(L, co, status);
    if (status == LUA_YIELD && ls->pending_op) {
        rs->co = co;
        rs->co_ref = ref;
        rs->op = ls->pending_op;
        ls->pending_op = NULL;
        return VD_EAGAIN;
    }
    if (status == LUA_YIELD) {
        lua_pushliteral(co, "a rule yielded without waiting for state");
        status = LUA_ERRRUN;
    }
    if (status != LUA_OK) {
        rc = lua_fault(r, co, status, rule, tr);
        give_thread(L, co, ref, 0);
        return rc;
    }
    int base = lua_gettop(co) - nres; /* results: hit, detail [, format arguments] [, score] */
    rc = conclude(r, co, rule, tr, base + 1, base + nres);
    give_thread(L, co, ref, 1);
    return rc;
}

/* A rule ended: the state reads it made are those up to now. */
static void end_trace(run_t *r) {
    if (r->ex->trace_rule) r->ex->trace_rule->obs_to = r->ex->d->observed.len;
    r->ex->trace_rule = NULL;
}

/* Counts a run of a rule (ended: not a wait for state) and, when the decision is timed
 * (weight > 0), the ticks since *t times the runs it stands for; *t becomes now, the start of
 * the next rule. */
static void count_rule(vd_rule_stat_t *n, int ended, uint64_t weight, uint64_t *t) {
    if (weight) {
        uint64_t now = vd_ticks();
        vd_counter_add(&n->ticks, weight * (now - *t));
        *t = now;
    }
    if (ended) vd_counter_add(&n->runs, 1);
}

static int run_rules(run_t *r, vd_trace_stage_t *ts, int64_t deadline_ns) {
    const vd_stage_t *st = r->stage;
    vd_outcome_t *o = side_of(r->ex->d, st);
    int can_wait = r->ex->can_wait;
    size_t i = r->rs->next_rule;
    uint64_t weight = r->rs->time_weight, t = weight ? vd_ticks() : 0;
    for (; i < st->nrules && !o->stop_action; i++) {
        if (!r->rs->co && deadline_ns && vd_now_ns() > deadline_ns) return VD_ETIMEOUT;
        if (!r->rs->co && st->timeout_ms && i > 0 &&
            vd_now_ns() > r->rs->stage_t0 + (int64_t)st->timeout_ms * 1000000) {
            char msg[300];
            snprintf(msg, sizeof msg,
                     "stage '%s' ran past its timeout_ms (%d) before rule '%s'; its other rules "
                     "were skipped",
                     st->name, st->timeout_ms, st->rules[i]->name);
            if (figures(r->ex->d, st)) vd_counter_add(&st->stats->timeouts, 1);
            record_fault(r->ex->d, st, st->rules[i]->name, msg, NULL);
            break;
        }
        const vd_rule_t *rule = st->rules[i];
        /* A score function that may wait for Redis needs the coroutine, and a condition can be
         * called from Lua as well. */
        int native = rule->native && !r->rs->co && (!can_wait || rule->score_ref == LUA_NOREF);
        vd_rule_stat_t *n = r->rule_stat = figures(r->ex->d, st) ? st->rule_stats[i] : NULL;
        r->reason_head = st->reason_heads ? &st->reason_heads[i] : NULL;
        int rc = native     ? run_native(r, rule, ts)
                 : can_wait ? run_rule_async(r, rule, ts)
                            : run_rule(r, rule, ts);
        if (n) count_rule(n, rc != VD_EAGAIN, weight, &t);
        if (rc == VD_EAGAIN) r->rs->next_rule = i;
        if (rc != VD_EAGAIN) end_trace(r);
        if (rc == STAGE_TIMED_OUT) {
            i++;
            break;
        }
        if (rc) return rc;
    }
    r->rs->next_rule = 0;
    return ts ? vd_trace_skipped(r->ex->d, ts, st, i, vd_trace_skip_reason(r->ex->d, o)) : 0;
}

static void count_stage(const vd_decision_t *d, const vd_stage_t *st, int64_t took_ns,
                        vd_trace_stage_t *ts, double score) {
    if (figures(d, st)) {
        vd_counter_add(&st->stats->count, 1);
        vd_hist_add(&st->stats->latency, took_ns);
    }
    if (ts) {
        ts->elapsed_ns = took_ns;
        ts->score = score;
    }
}

/* Keeps what a plugin stage answered, for the decision log: its outputs, or {"fault": why}. */
static int observe_plugin(vd_decision_t *d, const vd_stage_t *st, const vd_plugin_call_t *c,
                          int ok) {
    if (!d->observe) return 0;
    msgpack_sbuffer sb;
    msgpack_sbuffer_init(&sb);
    int json = ok && vd_observe_as_json(d), failed = 0;
    char text[1024]; /* most outputs' text fits: then no buffer is allocated for it */
    msgpack_sbuffer on_stack;
    if (json) { /* only the log reads it: its text at once */
        vd_jbuf_t j = vd_json_fixed(&on_stack, text, sizeof text);
        vd_plugin_call_json(c, &j);
        if (j.failed) { /* longer: in a buffer that grows */
            j = (vd_jbuf_t){&sb, 0, 0};
            vd_plugin_call_json(c, &j);
        } else {
            sb = on_stack;
        }
        failed = j.failed;
    } else if (ok) {
        vd_plugin_call_pack(c, &sb);
    } else {
        vd_mp_map(&sb, 1);
        VD_MP_LIT(&sb, "fault");
        vd_mp_cstr(&sb, d->faults.len ? VD_VEC_AT(d->faults, vd_fault_t, d->faults.len - 1).message
                                      : "");
    }
    vd_observed_t o = {.kind = VD_OBS_PLUGIN,
                       .name = st->name,
                       .len = strlen(st->name),
                       .packed = sb.data ? sb.data : "",
                       .plen = sb.size,
                       .json = json};
    int rc = sb.data && !failed ? vd_decision_observe(d, &o) : VD_ENOMEM;
    if (sb.data != text) msgpack_sbuffer_destroy(&sb);
    return rc;
}

int vd_pipeline_finish_call(const vd_stage_t *st, vd_plugin_call_t *c, int status,
                            vd_decision_t *d) {
    vd_outcome_t *o = side_of(d, st);
    double before = o->score;
    vd_trace_stage_t *ts = vd_trace_current(d);
    vd_trace_rule_t *tr = NULL;
    if (ts && !(tr = vd_vec_push(&ts->rules, d->arena, sizeof *tr))) return VD_ENOMEM;
    const char *who = st->plugin->lib->desc->name;
    if (tr) {
        tr->rule = who;
        tr->obs_from = tr->obs_to = d->observed.len;
    }
    int rc = 0;
    if (c->timed_out) {
        if (figures(d, st)) vd_counter_add(&st->stats->timeouts, 1);
        char msg[256];
        snprintf(msg, sizeof msg,
                 "plugin '%s' did not answer within its deadline (%lld ms passed, "
                 "timeout_ms %d)",
                 who, (long long)((vd_now_ns() - c->started_ns) / 1000000), st->plugin->timeout_ms);
        record_fault(d, st, who, msg, tr);
    } else if (status != VD_PLUGIN_OK) {
        char msg[1024];
        snprintf(msg, sizeof msg, "plugin '%s' failed: %s", who,
                 c->error ? c->error : "no reason given");
        record_fault(d, st, who, msg, tr);
    } else {
        rc = vd_plugin_call_merge(c, d);
    }
    if (!rc) rc = observe_plugin(d, st, c, !c->timed_out && status == VD_PLUGIN_OK);
    if (tr) tr->obs_to = d->observed.len; /* its outputs, for explain */
    if (tr && !tr->error) {
        tr->fired = o->score != before;
        tr->score = o->score - before;
    }
    if (o->score != before && figures(d, st)) vd_counter_add(&st->stats->fired, 1);
    count_stage(d, st, vd_now_ns() - c->started_ns, ts, o->score - before);
    return rc;
}

/* A replay that reuses plugin outputs: the stage answers what its record says (its outputs, or
 * its fault) without calling the plugin. 1 when the record had the stage, else 0. */
static int run_recorded_plugin(const vd_stage_t *st, vd_decision_t *d, int *rc) {
    vd_recorded_t *rec = d->recorded;
    if (!rec || !rec->plugins) return 0;
    const vd_observed_t *o =
        vd_recorded_take(rec, VD_OBS_PLUGIN, st->name, strlen(st->name), NULL, 0);
    if (!o) return 0;
    msgpack_zone zone;
    msgpack_object outs;
    size_t off = 0;
    if (!msgpack_zone_init(&zone, 1024)) return *rc = VD_ENOMEM, 1;
    int64_t t0 = vd_now_ns();
    vd_outcome_t *side = side_of(d, st);
    double before = side->score;
    *rc = 0;
    if (msgpack_unpack(o->packed, o->plen, &off, &zone, &outs) != MSGPACK_UNPACK_SUCCESS) {
        record_fault(d, st, st->plugin->lib->desc->name, "the record of this stage is unreadable",
                     NULL);
    } else if (outs.type == MSGPACK_OBJECT_MAP && vd_recorded_field(&outs, "fault")) {
        const msgpack_object *f = vd_recorded_field(&outs, "fault");
        char msg[512];
        snprintf(msg, sizeof msg, "%.*s", f->type == MSGPACK_OBJECT_STR ? (int)f->via.str.size : 0,
                 f->type == MSGPACK_OBJECT_STR ? f->via.str.ptr : "");
        record_fault(d, st, st->plugin->lib->desc->name, msg, NULL);
    } else if (outs.type == MSGPACK_OBJECT_ARRAY) {
        for (uint32_t i = 0; *rc == 0 && i < outs.via.array.size; i++)
            *rc = vd_recorded_output_apply(st, &outs.via.array.ptr[i], d);
    }
    msgpack_zone_destroy(&zone);
    if (*rc == 0) *rc = vd_decision_observe(d, o);
    if (side->score != before && figures(d, st)) vd_counter_add(&st->stats->fired, 1);
    count_stage(d, st, vd_now_ns() - t0, vd_trace_current(d), side->score - before);
    return 1;
}

/* Starts the plugin call of stage st; returns 0 when it finished, VD_EAGAIN when pending. */
static int run_plugin(const vd_stage_t *st, const msgpack_object *event, vd_decision_t *d,
                      int64_t deadline_ns, vd_run_state_t *rs) {
    int recorded_rc;
    if (run_recorded_plugin(st, d, &recorded_rc)) return recorded_rc;
    vd_plugin_stage_t *ps = st->plugin;
    int64_t now = vd_now_ns();
    int64_t stage_deadline = now + (int64_t)ps->timeout_ms * 1000000;
    if (deadline_ns && deadline_ns < stage_deadline) stage_deadline = deadline_ns;
    vd_plugin_call_t *c = vd_plugin_call_new(ps, st->name, event, d, st->shadow, stage_deadline);
    if (!c) return VD_ENOMEM;
    c->started_ns = now;
    c->host = rs->host;
    c->owner = rs->owner;
    c->now_s = rs->now_s;
    int status = vd_plugin_call_score(c);
    if (status == VD_PLUGIN_PENDING && !rs->host) {
        /* Nobody here can wait; a pending call is lost work, not a hang. */
        vd_plugin_call_set_error(c, "asynchronous completion is not available here");
        status = VD_PLUGIN_ERROR;
    }
    if (status == VD_PLUGIN_PENDING) {
        rs->pending = c;
        return VD_EAGAIN;
    }
    /* A synchronous call cannot be interrupted; one that overran is still a timeout, and its
     * late outputs are not used. */
    if (vd_now_ns() > stage_deadline) c->timed_out = 1;
    int rc = vd_pipeline_finish_call(st, c, status, d);
    vd_plugin_call_free(c);
    return rc;
}

static const char *by_thresholds(const vd_pipeline_t *pl, double score) {
    const char *action = pl->default_action;
    for (size_t i = 0; i < pl->nactions; i++)
        if (score >= pl->actions[i].bound) action = pl->actions[i].name;
    return action;
}

static void decide_action(const vd_pipeline_t *pl, vd_decision_t *d) {
    d->action = d->main.stop_action ? d->main.stop_action : by_thresholds(pl, d->main.score);
    if (d->has_shadow) {
        const char *stop = d->main.stop_action ? d->main.stop_action : d->shadow.stop_action;
        d->shadow_action = stop ? stop : by_thresholds(pl, d->main.score + d->shadow.score);
    }
}

/* Pushes the event view and ctx the first time a Lua stage runs: pipelines of plugins only
 * never make them. */
static int push_frame_body(lua_State *L) {
    vd_lua_push_event(L, lua_touserdata(L, 1));
    vd_lua_push_ctx(L);
    return 2;
}

/* Making the view allocates, within the Lua state's memory cap: done protected, so that a
 * state at its cap fails the stage instead of the process. Returns 0 or -1. */
static int push_frame(run_t *r) {
    if (r->ev) return 0;
    lua_pushcfunction(r->L, push_frame_body);
    lua_pushlightuserdata(r->L, (void *)r->event);
    if (lua_pcall(r->L, 1, 2, 0) != LUA_OK) {
        lua_pop(r->L, 1);
        return -1;
    }
    r->ctx = lua_gettop(r->L);
    r->ev = r->ctx - 1;
    return 0;
}

/* Runs the rules of a Lua stage from rs->next_rule, and counts the stage once it ends. */
static int run_lua_stage(run_t *r, vd_trace_stage_t *ts, int64_t deadline_ns) {
    vd_decision_t *d = r->ex->d;
    const vd_stage_t *st = r->stage;
    vd_run_state_t *rs = r->rs;
    if (push_frame(r) != 0) {
        char msg[300];
        snprintf(msg, sizeof msg, "stage '%s' could not start: out of Lua memory", st->name);
        record_fault(d, st, st->name, msg, NULL);
        count_stage(d, st, 0, ts, 0);
        return 0;
    }
    r->ex->stage = st->name;
    r->ex->shadow = st->shadow;
    if (!rs->co) { /* starting, not resuming */
        rs->stage_before = side_of(d, st)->score;
        rs->stage_t0 = vd_now_ns();
    }
    /* Rules are interrupted at the request's deadline or the stage's timeout, the earlier. */
    int64_t stop_ns = st->timeout_ms ? rs->stage_t0 + (int64_t)st->timeout_ms * 1000000 : 0;
    if (deadline_ns && (!stop_ns || deadline_ns < stop_ns)) stop_ns = deadline_ns;
    vd_lua_ls(r->L)->deadline_ns = stop_ns;
    int rc = run_rules(r, ts, deadline_ns);
    if (rc != VD_EAGAIN)
        count_stage(d, st, vd_now_ns() - rs->stage_t0, ts,
                    side_of(d, st)->score - rs->stage_before);
    return rc;
}

/* Runs one stage; VD_EAGAIN when it left a plugin call pending or a rule waiting. */
static int run_stage(run_t *r, const msgpack_object *event, int64_t deadline_ns,
                     vd_run_state_t *rs) {
    vd_decision_t *d = r->ex->d;
    const vd_stage_t *st = r->stage;
    if (st->shadow) d->has_shadow = 1;
    vd_trace_stage_t *ts = NULL;
    if (d->explain && !(ts = vd_trace_stage_new(d, st))) return VD_ENOMEM;
    if (st->kind == VD_STAGE_PLUGIN) return run_plugin(st, event, d, deadline_ns, rs);
    return run_lua_stage(r, ts, deadline_ns);
}

/* Lets go of a rule that was waiting when the run ends without it (an error elsewhere). */
static void drop_waiting_rule(lua_State *L, vd_run_state_t *rs) {
    if (!rs->co) return;
    luaL_unref(L, LUA_REGISTRYINDEX, rs->co_ref);
    rs->co = NULL;
    free(rs->op);
    rs->op = NULL;
}

int vd_pipeline_run(vd_policy_t *p, const vd_pipeline_t *pl, const msgpack_object *event,
                    vd_decision_t *d, int64_t deadline_ns, vd_run_state_t *rs) {
    lua_State *L = p->L;
    vd_lstate_t *ls = vd_lua_ls(L);
    if (!rs->now_s) rs->now_s = vd_clock_now_s(NULL);
    if (rs->next_stage == 0 && pl->stats && !d->reporting)
        rs->time_weight = vd_stats_time_weight(pl->stats);
    vd_exec_t ex = {.d = d,
                    .actions = pl->action_names,
                    .can_wait = rs->host && ls->redis,
                    .deadline_ns = deadline_ns,
                    .now_s = rs->now_s};
    int top = lua_gettop(L);
    vd_lua_views_enter(L, &rs->views); /* the views made before it waited read again */
    ls->exec = &ex;
    run_t r = {.L = L, .ex = &ex, .event = event, .rs = rs};
    int rc = 0;
    rs->pending = NULL;
    if (rs->co) { /* a rule of stage next_stage - 1 has its answer */
        r.stage = &pl->stages[rs->next_stage - 1];
        rc = run_lua_stage(&r, vd_trace_current(d), deadline_ns);
    }
    while (rc == 0 && rs->next_stage < pl->nstages && !d->main.stop_action) {
        if (deadline_ns && vd_now_ns() > deadline_ns)
            rc = VD_ETIMEOUT;
        else {
            r.stage = &pl->stages[rs->next_stage++];
            rc = run_stage(&r, event, deadline_ns, rs);
        }
    }
    if (rc != VD_EAGAIN) drop_waiting_rule(L, rs);
    ls->exec = NULL;
    ls->deadline_ns = 0;
    vd_lua_views_leave(L, &rs->views, rc == VD_EAGAIN && rs->co != NULL);
    lua_settop(L, top);
    if (rc == 0 && d->explain) rc = vd_trace_explain_rest(pl, rs->next_stage, d);
    if (rc == 0) decide_action(pl, d);
    return rc;
}
