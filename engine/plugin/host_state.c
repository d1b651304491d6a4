/* Host API 1.2: plugins read and write the state rules use. The reads go through the same
 * operations as verdict.counter & co. (engine/state/state_op.h): answered at once by the
 * embedded store, or later by the worker's Redis connection, with the same fallback. */
#include "host_state.h"

#include "activity.h"
#include "call.h"
#include "registry.h"
#include "state/redis.h"
#include "state/state_op.h"

#include <stdio.h>
#include <stdlib.h>

typedef struct waiter {
    vd_state_done_t done;
    void *ud;
    /* Whose code done is: referenced, so that it stays mapped even when the answer comes after
     * the stage was freed (its call timed out, then a reload let the old policy go). */
    vd_plugin_lib_t *lib;
    vd_store_t *store;
    int fail_open;
} waiter_t;

/* Answers the plugin from op (or from the fallback when op failed), then frees both. */
static void answer(vd_state_op_t *op) {
    waiter_t *w = op->owner;
    vd_state_answer_t a = {.value = -1};
    int64_t res[VD_WINDOWS];
    if (op->failed) a.fallback = op->why;
    vd_state_op_resolve(op, w->store, w->fail_open, res); /* out of memory: zeros */
    if (op->kind == VD_OP_COUNT)
        for (int i = 0; i < VD_WINDOWS; i++)
            a.counts[i] = res[i];
    else
        a.value = res[0];
    vd_plugin_activity_t saved = vd_plugin_activity_enter(w->lib, NULL, "state answer");
    w->done(w->ud, &a);
    vd_plugin_activity_leave(saved);
    vd_plugin_lib_unref(w->lib);
    free(w);
    free(op);
}

/* Where the call's state lives, or NULL when its host has none. */
static const vd_state_env_t *env_of(const vd_plugin_call_t *call) {
    return call && call->host && call->host->state && call->host->state->store ? call->host->state
                                                                               : NULL;
}

static int start(vd_plugin_call_t *call, vd_state_op_t *op, vd_state_done_t done, void *ud) {
    const vd_state_env_t *env = env_of(call);
    waiter_t *w = op && env && done ? malloc(sizeof *w) : NULL;
    if (!w) {
        free(op);
        return VD_PLUGIN_ERROR;
    }
    *w = (waiter_t){done, ud, call->ps ? call->ps->lib : NULL, env->store, env->fail_open};
    if (w->lib) vd_plugin_lib_ref(w->lib);
    op->owner = w;
    op->done = answer;
    op->now = call->now_s;
    op->deadline_ns = call->deadline_ns; /* the stage's: waiting longer is pointless */
    if (!env->redis) {                   /* embedded: answered now */
        if (vd_state_op_run_local(w->store, op, op->result) != 0) {
            op->failed = 1;
            snprintf(op->why, sizeof op->why, "state store: out of memory");
        }
        answer(op);
        return VD_PLUGIN_OK;
    }
    if (vd_redis_submit(env->redis, op) != 0) answer(op); /* failed at once: the fallback */
    return VD_PLUGIN_OK;
}

/* A report's run (decision.h, reporting) reads nothing and changes nothing. */
static int reporting(const vd_plugin_call_t *call) {
    return call && call->d && call->d->reporting;
}

/* In a report's run a read answers nothing, as a rule's does: counters 0, no label. */
static int answer_nothing(vd_plugin_call_t *call, const char *key, vd_state_done_t done, void *ud,
                          int64_t value) {
    if (!env_of(call) || !key || !done) return VD_PLUGIN_ERROR;
    vd_state_answer_t a = {.value = value};
    vd_plugin_activity_t saved =
        vd_plugin_activity_enter(call->ps ? call->ps->lib : NULL, NULL, "state answer");
    done(ud, &a);
    vd_plugin_activity_leave(saved);
    return VD_PLUGIN_OK;
}

int vd__state_counter(vd_plugin_call_t *call, const char *key, size_t len, uint32_t n,
                      vd_state_done_t done, void *ud) {
    if (reporting(call)) return answer_nothing(call, key, done, ud, 0);
    vd_state_op_t *op = key ? vd_state_op_new(VD_OP_COUNT, key, len, NULL, 0) : NULL;
    if (op) op->n = n;
    return start(call, op, done, ud);
}

int vd__state_distinct(vd_plugin_call_t *call, const char *key, size_t len, const char *value,
                       size_t vlen, int64_t ttl_s, vd_state_done_t done, void *ud) {
    if (reporting(call)) return answer_nothing(call, key, done, ud, 0);
    vd_state_op_t *op = key ? vd_state_op_new(VD_OP_DISTINCT, key, len, value, vlen) : NULL;
    if (op) op->ttl = ttl_s;
    return start(call, op, done, ud);
}

int vd__state_labeled(vd_plugin_call_t *call, const char *key, size_t len, vd_state_done_t done,
                      void *ud) {
    if (reporting(call)) return answer_nothing(call, key, done, ud, -1);
    return start(call, key ? vd_state_op_new(VD_OP_LABELED, key, len, NULL, 0) : NULL, done, ud);
}

int vd__state_label(vd_plugin_call_t *call, const char *key, size_t len, int64_t ttl_s) {
    const vd_state_env_t *env = env_of(call);
    if (!env || !key) return VD_PLUGIN_ERROR;
    if (reporting(call)) return VD_PLUGIN_OK;
    char why[120];
    if (env->redis && vd_redis_label(env->redis, key, len, ttl_s, why, sizeof why) == 0)
        return VD_PLUGIN_OK;
    if (env->redis && env->fail_open) return VD_PLUGIN_OK;
    return vd_store_label(env->store, key, len, call->now_s, ttl_s) == 0 ? VD_PLUGIN_OK
                                                                         : VD_PLUGIN_ERROR;
}
