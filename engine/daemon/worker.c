#include "worker.h"

#include "dlog/dlog.h"

#include "base/clock.h"
#include "base/error.h"
#include "base/log.h"
#include "crash.h"
#include "engine.h"
#include "state/redis.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void close_idle_conns(vd_worker_t *w) {
    for (vd_conn_t *c = w->conns.conns, *next; c; c = next) {
        next = c->next;
        if (!c->closing && vd_conn_idle(c)) vd_conn_close(c);
    }
}

static void finish_if_drained(vd_worker_t *w) {
    if (!w->draining || w->conns.nconns > 0 || w->exec.nwaiting > 0) return;
    if (!uv_is_closing((uv_handle_t *)&w->wake)) {
        vd_executor_stop_waking(&w->exec); /* later completions wait for vd_worker_close */
        uv_close((uv_handle_t *)&w->wake, NULL);
        uv_close((uv_handle_t *)&w->drain_timer, NULL);
        uv_close((uv_handle_t *)&w->call_timer, NULL);
        vd_redis_shutdown(w->redis);
    }
}

static void on_drain_timeout(uv_timer_t *t) {
    vd_worker_t *w = t->data;
    vd_log(VD_LOG_WARN, "worker %d: drain timeout, closing %d busy connection(s)", w->id,
           w->conns.nconns);
    w->draining_hard = 1; /* plugin calls still pending count as timed out */
    vd_executor_expire(&w->exec, INT64_MAX);
    for (vd_conn_t *c = w->conns.conns; c; c = c->next)
        vd_conn_close(c);
    finish_if_drained(w);
}

static void on_wake(uv_async_t *a) {
    vd_worker_t *w = a->data;
    pthread_mutex_lock(&w->lock);
    size_t n = w->nnew;
    vd_handover_t fds[256];
    if (n > 256) n = 256;
    if (n > 0) {
        memcpy(fds, w->new_fds, n * sizeof *fds);
        memmove(w->new_fds, w->new_fds + n, (w->nnew - n) * sizeof *fds);
        w->nnew -= n;
    }
    int more = w->nnew > 0;
    pthread_mutex_unlock(&w->lock);
    for (size_t i = 0; i < n; i++)
        vd_conn_open(&w->conns, fds[i].fd, fds[i].admin);
    if (more) uv_async_send(&w->wake);
    vd_executor_process(&w->exec);
    vd_executor_adopt(&w->exec);
    if (atomic_load(&w->engine->draining) && !w->draining) {
        w->draining = 1;
        w->conns.draining = 1;
        uv_timer_start(&w->drain_timer, on_drain_timeout, (uint64_t)w->engine->cfg.drain_timeout_ms,
                       0);
        close_idle_conns(w);
    }
    finish_if_drained(w);
}

/* ---- hooks: how the executor, the connections and the serving layer reach the worker ---- */

static void exec_wake(void *ud) {
    vd_worker_t *w = ud;
    uv_async_send(&w->wake);
}

static void on_call_timer(uv_timer_t *t) {
    vd_worker_t *w = t->data;
    vd_executor_expire(&w->exec, w->draining_hard ? INT64_MAX : vd_now_ns());
}

static void exec_arm(void *ud, int64_t deadline_ns) {
    vd_worker_t *w = ud;
    if (!deadline_ns) {
        uv_timer_stop(&w->call_timer);
        return;
    }
    int64_t left = deadline_ns - vd_now_ns();
    uint64_t ms = left <= 0 ? 0 : (uint64_t)((left + 999999) / 1000000);
    uv_timer_start(&w->call_timer, on_call_timer, ms, 0);
}

static void conn_frame(void *ud, vd_conn_t *c, const char *data, size_t len) {
    vd_worker_t *w = ud;
    vd_server_frame(&w->server, c, data, len);
}

static void conn_batch(void *ud) {
    vd_worker_t *w = ud;
    vd_executor_adopt(&w->exec);
}

static void conn_closed(void *ud, vd_conn_t *c) {
    (void)c;
    finish_if_drained(ud);
}

static int serve_snapshot(void *ud, vd_stats_snapshot_t *snap) {
    return vd_engine_snapshot(ud, snap);
}

static int serve_reload(void *ud, char *version, char *err, size_t errlen) {
    return vd_engine_reload(ud, version, err, errlen);
}

static int serve_shutting_down(void *ud) {
    vd_engine_t *e = ud;
    return atomic_load(&e->draining);
}

int vd_worker_init(vd_worker_t *w, vd_engine_t *e, int id, vd_policy_t *policy) {
    memset(w, 0, sizeof *w);
    w->engine = e;
    w->id = id;
    if (uv_loop_init(&w->loop) < 0) return VD_EIO;
    pthread_mutex_init(&w->lock, NULL);
    uv_async_init(&w->loop, &w->wake, on_wake);
    w->wake.data = w;
    uv_timer_init(&w->loop, &w->drain_timer);
    w->drain_timer.data = w;
    uv_timer_init(&w->loop, &w->call_timer);
    w->call_timer.data = w;
    if (e->cfg.redis_address) {
        vd_redis_config_t rc = {e->cfg.redis_address, e->cfg.redis_prefix, e->cfg.redis_timeout_ms,
                                e->cfg.redis_user, e->cfg.redis_password};
        if (!(w->redis = vd_redis_new(&w->loop, &rc, id))) return VD_ENOMEM;
    }
    vd_executor_env_t env = {
        .state = {e->store, w->redis, e->cfg.lua.state_fail_open, e->campaigns},
        .max_waiting = e->cfg.max_pending,
        .max_waiting_bytes = e->cfg.max_pending_bytes,
        .hooks = {exec_wake, exec_arm, w},
    };
    int rc = vd_executor_init(&w->exec, &env, policy);
    if (rc) return rc;
    vd_server_hooks_t hooks = {serve_snapshot, serve_reload, serve_shutting_down, e};
    vd_server_init(&w->server, &w->exec, &w->loop, e->cfg.deadline_ms, &hooks,
                   vd_dlog_lane(e->dlog, id));
    w->server.report_limit = e->cfg.report_limit;
    w->conns = (vd_conn_env_t){
        .loop = &w->loop,
        .max_request = e->cfg.max_request,
        .write_high_water = e->cfg.write_high_water,
        .idle_timeout_ms = e->cfg.idle_timeout_ms,
        .request_timeout_ms = e->cfg.request_timeout_ms,
        .stats = &w->net,
        .errors = w->server.stats.errors,
        .on_frame = conn_frame,
        .on_batch = conn_batch,
        .on_closed = conn_closed,
        .ud = w,
    };
    return 0;
}

static void run(void *arg) {
    vd_worker_t *w = arg;
    vd_crash_thread_start();
    uv_run(&w->loop, UV_RUN_DEFAULT);
    vd_crash_thread_end();
    atomic_store(&w->finished, 1);
    uv_async_send(&w->engine->worker_done);
}

int vd_worker_start(vd_worker_t *w) {
    return uv_thread_create(&w->thread, run, w) == 0 ? 0 : VD_EIO;
}

void vd_worker_add_fd(vd_worker_t *w, int fd, int admin) {
    pthread_mutex_lock(&w->lock);
    if (w->nnew == w->capnew) {
        size_t cap = w->capnew ? w->capnew * 2 : 16;
        vd_handover_t *fds = realloc(w->new_fds, cap * sizeof *fds);
        if (!fds) {
            pthread_mutex_unlock(&w->lock);
            vd_log(VD_LOG_ERROR, "out of memory handing over a connection; closing it");
            close(fd);
            return;
        }
        w->new_fds = fds;
        w->capnew = cap;
    }
    w->new_fds[w->nnew++] = (vd_handover_t){fd, admin};
    pthread_mutex_unlock(&w->lock);
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
        close(w->new_fds[i].fd);
    free(w->new_fds);
    pthread_mutex_destroy(&w->lock);
    vd_executor_close(&w->exec);
    vd_server_close(&w->server);
    vd_redis_free(w->redis);
}
