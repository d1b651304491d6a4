#include "worker.h"

#include "../lua/state.h"
#include "../net/conn.h"
#include "../state/redis.h"
#include "engine.h"
#include "error.h"
#include "log.h"
#include "request.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Points the policy's pipelines and stages at this worker's stats nodes. */
static void bind_stats(vd_worker_t *w, vd_policy_t *p) {
    for (size_t i = 0; i < p->npipelines; i++) {
        vd_pipeline_t *pl = &p->pipelines[i];
        pl->stats = vd_stats_node(&w->stats, pl->name, "");
        for (size_t s = 0; s < pl->nstages; s++)
            pl->stages[s].stats = vd_stats_node(&w->stats, pl->name, pl->stages[s].name);
    }
    vd_lua_ls(p->L)->redis = w->redis; /* rules of this copy wait on this worker's connection */
}

void vd_worker_adopt_pending(vd_worker_t *w) {
    if (!atomic_load_explicit(&w->pending, memory_order_acquire)) return;
    vd_policy_t *p = atomic_exchange(&w->pending, NULL);
    if (!p) return;
    bind_stats(w, p);
    vd_policy_t *old = w->policy;
    w->policy = p;
    vd_policy_unref(old); /* requests still using it hold their own reference */
}

static void close_idle_conns(vd_worker_t *w) {
    for (vd_conn_t *c = w->conns, *next; c; c = next) {
        next = c->next;
        if (!c->closing && vd_conn_idle(c)) vd_conn_close(c);
    }
}

static void finish_if_drained(vd_worker_t *w) {
    if (!w->draining || w->nconns > 0 || w->nrequests > 0) return;
    if (!uv_is_closing((uv_handle_t *)&w->wake)) {
        pthread_mutex_lock(&w->done_lock);
        w->done_closed = 1; /* later completions (of timed-out calls) wait for vd_worker_close */
        pthread_mutex_unlock(&w->done_lock);
        uv_close((uv_handle_t *)&w->wake, NULL);
        uv_close((uv_handle_t *)&w->drain_timer, NULL);
        uv_close((uv_handle_t *)&w->call_timer, NULL);
        vd_redis_shutdown(w->redis);
    }
}

static void on_drain_timeout(uv_timer_t *t) {
    vd_worker_t *w = t->data;
    vd_log(VD_LOG_WARN, "worker %d: drain timeout, closing %d busy connection(s)", w->id,
           w->nconns);
    w->draining_hard = 1; /* plugin calls still pending count as timed out */
    vd_request_process_deadlines(w);
    for (vd_conn_t *c = w->conns; c; c = c->next)
        vd_conn_close(c);
    finish_if_drained(w);
}

static void on_wake(uv_async_t *a) {
    vd_worker_t *w = a->data;
    pthread_mutex_lock(&w->lock);
    size_t n = w->nnew;
    int fds[256];
    if (n > 256) n = 256;
    if (n > 0) {
        memcpy(fds, w->new_fds, n * sizeof *fds);
        memmove(w->new_fds, w->new_fds + n, (w->nnew - n) * sizeof *fds);
        w->nnew -= n;
    }
    int more = w->nnew > 0;
    pthread_mutex_unlock(&w->lock);
    for (size_t i = 0; i < n; i++)
        vd_conn_open(w, fds[i]);
    if (more) uv_async_send(&w->wake);
    vd_request_process_completions(w);
    vd_worker_adopt_pending(w);
    if (atomic_load(&w->engine->draining) && !w->draining) {
        w->draining = 1;
        uv_timer_start(&w->drain_timer, on_drain_timeout, (uint64_t)w->engine->cfg.drain_timeout_ms,
                       0);
        close_idle_conns(w);
    }
    finish_if_drained(w);
}

void vd_worker_conn_closed(vd_worker_t *w, vd_conn_t *c) {
    if (c->prev)
        c->prev->next = c->next;
    else
        w->conns = c->next;
    if (c->next) c->next->prev = c->prev;
    w->nconns--;
    vd_counter_add(&w->stats.conns_open, (uint64_t)-1);
    finish_if_drained(w);
}

int vd_worker_init(vd_worker_t *w, vd_engine_t *e, int id, vd_policy_t *policy) {
    memset(w, 0, sizeof *w);
    w->engine = e;
    w->id = id;
    vd_stats_init(&w->stats);
    vd_arena_init(&w->arena);
    if (!msgpack_zone_init(&w->zone, 8192)) return VD_ENOMEM;
    if (uv_loop_init(&w->loop) < 0) return VD_EIO;
    pthread_mutex_init(&w->lock, NULL);
    uv_async_init(&w->loop, &w->wake, on_wake);
    w->wake.data = w;
    uv_timer_init(&w->loop, &w->drain_timer);
    w->drain_timer.data = w;
    pthread_mutex_init(&w->done_lock, NULL);
    uv_timer_init(&w->loop, &w->call_timer);
    w->call_timer.data = w;
    if (e->cfg.redis_address) {
        vd_redis_config_t rc = {e->cfg.redis_address, e->cfg.redis_prefix, e->cfg.redis_timeout_ms,
                                e->cfg.redis_user, e->cfg.redis_password};
        if (!(w->redis = vd_redis_new(&w->loop, &rc, id))) return VD_ENOMEM;
    }
    w->policy = policy;
    bind_stats(w, policy);
    return 0;
}

static void run(void *arg) {
    vd_worker_t *w = arg;
    uv_run(&w->loop, UV_RUN_DEFAULT);
    atomic_store(&w->finished, 1);
    uv_async_send(&w->engine->worker_done);
}

int vd_worker_start(vd_worker_t *w) {
    return uv_thread_create(&w->thread, run, w) == 0 ? 0 : VD_EIO;
}

void vd_worker_add_fd(vd_worker_t *w, int fd) {
    pthread_mutex_lock(&w->lock);
    if (w->nnew == w->capnew) {
        size_t cap = w->capnew ? w->capnew * 2 : 16;
        int *fds = realloc(w->new_fds, cap * sizeof *fds);
        if (!fds) {
            pthread_mutex_unlock(&w->lock);
            vd_log(VD_LOG_ERROR, "out of memory handing over a connection; closing it");
            close(fd);
            return;
        }
        w->new_fds = fds;
        w->capnew = cap;
    }
    w->new_fds[w->nnew++] = fd;
    pthread_mutex_unlock(&w->lock);
    uv_async_send(&w->wake);
}

void vd_worker_offer_policy(vd_worker_t *w, vd_policy_t *p) {
    vd_policy_t *old = atomic_exchange(&w->pending, p);
    vd_policy_unref(old); /* an offer the worker never took: nobody else references it */
    uv_async_send(&w->wake);
}

void vd_worker_drain(vd_worker_t *w) {
    uv_async_send(&w->wake);
}

void vd_worker_join(vd_worker_t *w) {
    uv_thread_join(&w->thread);
}

void vd_worker_close(vd_worker_t *w) {
    uv_loop_close(&w->loop);
    for (size_t i = 0; i < w->nnew; i++)
        close(w->new_fds[i]);
    free(w->new_fds);
    pthread_mutex_destroy(&w->lock);
    /* Completions that arrived after the loop stopped, then the policies: destroying their
     * plugin instances abandons calls never completed; last, what completed meanwhile. */
    vd_request_process_completions(w);
    vd_policy_unref(atomic_exchange(&w->pending, NULL));
    vd_policy_unref(w->policy);
    vd_request_process_completions(w);
    vd_redis_free(w->redis);
    pthread_mutex_destroy(&w->done_lock);
    msgpack_zone_destroy(&w->zone);
    vd_arena_close(&w->arena);
    vd_stats_close(&w->stats);
}
