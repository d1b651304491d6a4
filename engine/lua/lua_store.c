/* State for rules: verdict.counter (sliding-window counters), verdict.distinct (approximate
 * distinct counts) and verdict.label / verdict.labeled (labels with expiry). Embedded, they
 * run on the store every worker shares (engine/state/store.h). With Redis, a read yields the
 * rule's coroutine until the answer (engine/state/redis.h); when it does not come, the
 * configured fallback answers: this daemon's local state, or nothing (fail open). Either way
 * the decision's faults say so, once per request. */
#include "lua_store.h"
#include "base/clock.h"
#include "decision/decision.h"
#include "decision/recorded.h"
#include "state.h"
#include "state/redis.h"
#include "state/state_op.h"
#include "state/store.h"

#include <lauxlib.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The decision's time (a caller may set it, as replays do); the system's outside requests. */
static int64_t now(lua_State *L) {
    vd_exec_t *e = vd_lua_ls(L)->exec;
    return e ? e->now_s : vd_clock_now_s(NULL);
}

static int push_results(lua_State *L, vd_state_op_kind_t kind, const int64_t res[VD_WINDOWS]) {
    if (kind == VD_OP_COUNT) {
        for (int w = 0; w < VD_WINDOWS; w++)
            lua_pushinteger(L, (lua_Integer)res[w]);
        return VD_WINDOWS;
    }
    if (kind == VD_OP_LABELED && res[0] < 0)
        lua_pushnil(L);
    else
        lua_pushinteger(L, (lua_Integer)res[0]);
    return 1;
}

/* How the decision log names each state operation. */
static const vd_obs_kind_t obs_kind[] = {[VD_OP_COUNT] = VD_OBS_COUNTER,
                                         [VD_OP_DISTINCT] = VD_OBS_DISTINCT,
                                         [VD_OP_LABELED] = VD_OBS_LABELED};

/* Keeps what the rule read, for the decision log (when the decision is logged). */
static int observe(lua_State *L, const vd_state_op_t *op, const int64_t res[VD_WINDOWS]) {
    vd_exec_t *e = vd_lua_ls(L)->exec;
    if (!e || !e->d->observe) return 0;
    vd_observed_t o = {.kind = obs_kind[op->kind],
                       .name = op->key,
                       .len = op->klen,
                       .value = op->value,
                       .vlen = op->vlen,
                       .n = op->n};
    for (int w = 0; w < VD_WINDOWS && w < VD_OBS_RESULTS; w++)
        o.res[w] = res[w];
    return vd_decision_observe(e->d, &o);
}

void vd_lua_note_state_fallback(lua_State *L, const char *why) {
    vd_lstate_t *ls = vd_lua_ls(L);
    vd_exec_t *e = ls->exec;
    if (!e) return;
    char msg[256];
    snprintf(msg, sizeof msg, "state fell back: %s; %s", why,
             ls->limits.state_fail_open ? "failed open (no counts, no labels)"
                                        : "used this daemon's local state");
    for (uint32_t i = 0; i < e->d->faults.len; i++)
        if (strcmp(VD_VEC_AT(e->d->faults, vd_fault_t, i).message, msg) == 0) return;
    vd_decision_add_fault(e->d, e->stage, e->rule, msg);
}

/* The results of op: its answer, or (noted in the decision) the fallback's. */
static int resolve(lua_State *L, const vd_state_op_t *op, int64_t res[VD_WINDOWS]) {
    vd_lstate_t *ls = vd_lua_ls(L);
    if (op->failed) vd_lua_note_state_fallback(L, op->why);
    return vd_state_op_resolve(op, ls->limits.store, ls->limits.state_fail_open, res);
}

/* Pushes the results of req, which stays the caller's. */
static int push_op(lua_State *L, const vd_state_op_t *req) {
    int64_t res[VD_WINDOWS];
    if (resolve(L, req, res) || observe(L, req, res))
        return luaL_error(L, "state store: out of memory");
    return push_results(L, req->kind, res);
}

int vd_lua_push_state_op(lua_State *L, vd_state_op_t *op) {
    int64_t res[VD_WINDOWS];
    vd_state_op_kind_t kind = op->kind;
    int rc = resolve(L, op, res);
    if (!rc) rc = observe(L, op, res);
    free(op); /* before any Lua error can jump past it */
    if (rc) return luaL_error(L, "state store: out of memory");
    return push_results(L, kind, res);
}

static int after_wait(lua_State *L, int status, lua_KContext k) {
    (void)status;
    (void)k;
    return vd_lua_push_state_op(L, vd_lua_take_resumed(L));
}

/* A replay's answer from the record, when it has one for req: 1 (pushed), else 0. The store
 * is left as it is: the recorded answer already holds what the original decision added. */
static int answer_recorded(lua_State *L, vd_state_op_t *req, int *pushed) {
    vd_exec_t *e = vd_lua_ls(L)->exec;
    vd_recorded_t *rec = e ? e->d->recorded : NULL;
    if (!rec || !rec->state) return 0;
    const vd_observed_t *o =
        vd_recorded_take(rec, obs_kind[req->kind], req->key, req->klen,
                         req->kind == VD_OP_DISTINCT ? req->value : NULL, req->vlen);
    if (!o && rec->store_forbidden) { /* this decision is made again, in order */
        rec->missed = 1;
        memset(req->result, 0, sizeof req->result);
        *pushed = push_results(L, req->kind, req->result);
        return 1;
    }
    if (!o) return 0;
    /* A counter the candidate adds a different amount to: the record's counts, with the
     * original amount taken out and this one put in. */
    int64_t delta = req->kind == VD_OP_COUNT && o->n >= 0 ? (int64_t)req->n - o->n : 0;
    for (int w = 0; w < VD_WINDOWS && w < VD_OBS_RESULTS; w++)
        req->result[w] = o->res[w] + delta;
    if (observe(L, req, req->result)) return luaL_error(L, "out of memory");
    *pushed = push_results(L, req->kind, req->result);
    return 1;
}

/* Answers req (built on the stack, borrowing the Lua strings): from a replay's record, on the
 * embedded store at once, or through Redis, yielding until the answer when the rule runs where
 * it may wait. */
static int answer(lua_State *L, vd_state_op_t *req) {
    vd_lstate_t *ls = vd_lua_ls(L);
    req->now = now(L);
    int pushed = 0;
    if (answer_recorded(L, req, &pushed)) return pushed;
    if (!ls->redis) { /* the common case: no allocation */
        if (!ls->limits.store)
            return luaL_error(L, "state (counters, labels) is not available here");
        if (vd_state_op_run_local(ls->limits.store, req, req->result) ||
            observe(L, req, req->result))
            return luaL_error(L, "state store: out of memory");
        return push_results(L, req->kind, req->result);
    }
    if (!(ls->exec && ls->exec->can_wait && lua_isyieldable(L))) {
        req->failed = 1;
        snprintf(req->why, sizeof req->why, "Redis cannot be waited for here");
        return push_op(L, req);
    }
    req->deadline_ns = ls->exec->deadline_ns;
    vd_state_op_t *op = vd_state_op_copy(req);
    if (!op) return luaL_error(L, "out of memory");
    if (vd_redis_submit(ls->redis, op) == 0) {
        ls->pending_op = op;
        return lua_yieldk(L, 0, 0, after_wait);
    }
    return vd_lua_push_state_op(L, op);
}

/* verdict.counter(key [, n]) -> the counts of the last minute, hour and day, after adding n
 * (default 1; 0 only reads). */
static int l_count(lua_State *L) {
    size_t len;
    const char *key = luaL_checklstring(L, 1, &len);
    lua_Integer n = luaL_optinteger(L, 2, 1);
    luaL_argcheck(L, n >= 0 && n <= 1000000, 2, "must be an integer from 0 to 1000000");
    vd_state_op_t req = {.kind = VD_OP_COUNT, .key = key, .klen = len, .n = (uint32_t)n};
    return answer(L, &req);
}

/* verdict.distinct(key, value [, ttl]) -> the approximate number of distinct values seen
 * under key (value nil only reads); the set expires ttl seconds after its last addition
 * (default a day). */
static int l_distinct(lua_State *L) {
    size_t len, vlen = 0;
    const char *key = luaL_checklstring(L, 1, &len);
    const char *value = lua_isnoneornil(L, 2) ? NULL : luaL_checklstring(L, 2, &vlen);
    lua_Integer ttl = luaL_optinteger(L, 3, 86400);
    vd_state_op_t req = {
        .kind = VD_OP_DISTINCT, .key = key, .klen = len, .value = value, .vlen = vlen, .ttl = ttl};
    return answer(L, &req);
}

/* verdict.labeled(key) -> seconds the label has left, or nil when it is not set. */
static int l_labeled(lua_State *L) {
    size_t len;
    const char *key = luaL_checklstring(L, 1, &len);
    vd_state_op_t req = {.kind = VD_OP_LABELED, .key = key, .klen = len};
    return answer(L, &req);
}

/* verdict.label(key, ttl) sets the label for ttl seconds (0 removes it). Never waits: with
 * Redis the write is sent and the rule goes on. */
static int l_label(lua_State *L) {
    size_t len;
    const char *key = luaL_checklstring(L, 1, &len);
    lua_Integer ttl = luaL_checkinteger(L, 2);
    vd_lstate_t *ls = vd_lua_ls(L);
    vd_recorded_t *rec = ls->exec ? ls->exec->d->recorded : NULL;
    if (rec && rec->store_forbidden) { /* a replay's write: the decision is made again */
        rec->missed = 1;
        return 0;
    }
    if (ls->redis) {
        char why[120];
        if (vd_redis_label(ls->redis, key, len, ttl, why, sizeof why) == 0) return 0;
        vd_lua_note_state_fallback(L, why);
        if (ls->limits.state_fail_open) return 0;
    }
    if (!ls->limits.store) return luaL_error(L, "state (counters, labels) is not available here");
    if (vd_store_label(ls->limits.store, key, len, now(L), ttl))
        return luaL_error(L, "state store: out of memory");
    return 0;
}

void vd_lua_open_store(lua_State *L) {
    static const luaL_Reg fns[] = {{"counter", l_count},
                                   {"distinct", l_distinct},
                                   {"label", l_label},
                                   {"labeled", l_labeled},
                                   {NULL, NULL}};
    luaL_setfuncs(L, fns, 0);
}
