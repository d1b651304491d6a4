#include "executor.h"

#include "base/error.h"
#include "lua/state.h"
#include "request.h"

#include <stdlib.h>
#include <string.h>

/* Points a stage and its rules at this executor's figures: found by pipeline, stage and rule
 * name, so that a reload carries them on (new names start at zero). */
static void bind_stage(vd_executor_t *x, const vd_pipeline_t *pl, vd_stage_t *st) {
    st->stats = vd_stats_node(&x->stats, pl->name, st->name);
    if (!st->stats) return;
    atomic_store_explicit(&st->stats->shadow, st->shadow, memory_order_relaxed);
    for (size_t r = 0; r < st->nrules; r++)
        st->rule_stats[r] = vd_stats_rule(&x->stats, st->stats, st->rules[r]->name);
}

/* Points the policy's pipelines, stages and rules at this executor's figures, and its rules at
 * this thread's Redis connection. */
static void bind_policy(vd_executor_t *x, vd_policy_t *p) {
    for (size_t i = 0; i < p->npipelines; i++) {
        vd_pipeline_t *pl = &p->pipelines[i];
        pl->stats = vd_stats_node(&x->stats, pl->name, "");
        for (size_t s = 0; s < pl->nstages; s++)
            bind_stage(x, pl, &pl->stages[s]);
    }
    vd_lua_ls(p->L)->redis = x->env.state.redis;
}

/* The plugin side of a completion: any thread. */
static void call_completed(vd_plugin_call_t *c, void *ud) {
    vd_executor_t *x = ud;
    pthread_mutex_lock(&x->done_lock);
    c->done_next = x->done_head;
    x->done_head = c;
    int closed = x->done_closed;
    pthread_mutex_unlock(&x->done_lock);
    if (!closed && x->env.hooks.wake) x->env.hooks.wake(x->env.hooks.ud);
}

int vd_executor_init(vd_executor_t *x, const vd_executor_env_t *env, vd_policy_t *policy) {
    memset(x, 0, sizeof *x);
    x->env = *env;
    if (x->env.max_waiting <= 0) x->env.max_waiting = 10000;
    vd_stat_nodes_init(&x->stats);
    vd_arena_init(&x->arena);
    if (pthread_mutex_init(&x->done_lock, NULL) != 0) return VD_ENOMEM;
    x->call_host = (vd_call_host_t){call_completed, vd__request_release, x, &x->env.state};
    x->policy = policy;
    bind_policy(x, policy);
    return 0;
}

void vd_executor_close(vd_executor_t *x) {
    x->closing = 1;
    vd__requests_free_spares(x);
    vd__requests_process(x);
    vd_policy_unref(atomic_exchange(&x->pending, NULL));
    vd_policy_unref(x->policy);
    x->policy = NULL;
    vd__requests_process(x);
    pthread_mutex_destroy(&x->done_lock);
    vd_arena_close(&x->arena);
    vd_stat_nodes_close(&x->stats);
}

void vd_executor_offer(vd_executor_t *x, vd_policy_t *p) {
    vd_policy_t *old = atomic_exchange(&x->pending, p);
    vd_policy_unref(old); /* an offer never adopted: nobody else references it */
    if (x->env.hooks.wake) x->env.hooks.wake(x->env.hooks.ud);
}

void vd_executor_adopt(vd_executor_t *x) {
    if (!atomic_load_explicit(&x->pending, memory_order_acquire)) return;
    vd_policy_t *p = atomic_exchange(&x->pending, NULL);
    if (!p) return;
    bind_policy(x, p);
    vd_policy_t *old = x->policy;
    x->policy = p;
    vd_policy_unref(old); /* decisions still using it hold their own reference */
}

const vd_pipeline_t *vd_executor_pipeline(const vd_executor_t *x, const char *name, size_t len) {
    return vd_policy_pipeline(x->policy, name, len);
}

int vd_executor_decide(vd_executor_t *x, const vd_decide_req_t *req) {
    int may_wait = req->pl->has_plugins || x->env.state.redis || req->keep;
    if (!may_wait) { /* decided now, in the executor's reusable arena */
        vd_request_t r = {.x = x, .in = *req, .policy = x->policy};
        if (!r.in.t0) r.in.t0 = vd_now_ns();
        vd__request_start(&r);
        if (req->free_input) req->free_input(req->ud, req->input);
        vd_arena_reset(&x->arena);
        return 0;
    }
    if (x->nwaiting >= x->env.max_waiting) return VD_EBUSY;
    if (x->env.max_waiting_bytes && x->held_bytes &&
        x->held_bytes + req->input_bytes > x->env.max_waiting_bytes)
        return VD_EBUSY;
    vd_request_t *r = vd__request_new(x);
    if (!r) return VD_ENOMEM;
    r->in = *req;
    if (!r->in.t0) r->in.t0 = vd_now_ns();
    r->policy = x->policy;
    vd__request_start(r);
    return 0;
}

void vd_executor_process(vd_executor_t *x) {
    vd__requests_process(x);
}

void vd_executor_expire(vd_executor_t *x, int64_t now_ns) {
    vd__requests_expire(x, now_ns);
}

void vd_executor_stop_waking(vd_executor_t *x) {
    pthread_mutex_lock(&x->done_lock);
    x->done_closed = 1;
    pthread_mutex_unlock(&x->done_lock);
}
