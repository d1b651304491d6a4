#include "engine.h"

#include "base/clock.h"
#include "base/error.h"
#include "base/log.h"
#include "crash.h"
#include "dlog/dlog.h"
#include "log_manifest.h"
#include "metrics_http.h"
#include "policy/lint.h"
#include "policy/policy.h"
#include "state/campaign.h"
#include "state/redis.h"
#include "state/store.h"
#include "worker.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Compiles one copy of src per worker into out[]; all or nothing. */
static int compile_copies(vd_engine_t *e, vd_policy_src_t *src, vd_policy_t **out, char *err,
                          size_t errlen) {
    for (int i = 0; i < e->nworkers; i++) {
        int rc = vd_policy_load(src, &e->cfg.lua, &e->plugins, &out[i], err, errlen);
        if (rc) {
            while (i-- > 0)
                vd_policy_unref(out[i]);
            return rc;
        }
    }
    return 0;
}

/* The lint's findings (verdictd --check's) as warnings in the log, for a policy that loads but
 * may misbehave quietly. Runs on the loading thread, before any worker has the copy. */
static void log_lint(vd_policy_t *p) {
    vd_lint_report_t r;
    if (vd_policy_lint(p, &r) == 0)
        for (size_t i = 0; i < r.n; i++) {
            char line[1400];
            vd_lint_format(&r.items[i], 0, line, sizeof line);
            vd_log(VD_LOG_WARN, "lint: %s", line);
        }
    vd_lint_report_free(&r);
}

static int load_all(vd_engine_t *e, vd_policy_src_t **src, vd_policy_t **out, char *err,
                    size_t errlen) {
    int rc = vd_policy_src_read(e->cfg.policy_dir, src, err, errlen);
    if (rc) return rc;
    rc = compile_copies(e, *src, out, err, errlen);
    if (rc == 0) log_lint(out[0]);
    if (rc) {
        vd_policy_src_unref(*src);
        *src = NULL;
    }
    return rc;
}

int vd_engine_reload(vd_engine_t *e, char *version, char *err, size_t errlen) {
    vd_crash_thread_start(); /* plugins' create() runs here, on a pool thread that keeps it */
    vd_policy_t **copies = calloc((size_t)e->nworkers, sizeof *copies);
    if (!copies) return VD_ENOMEM;
    pthread_mutex_lock(&e->reload_lock);
    vd_policy_src_t *src = NULL;
    int rc = load_all(e, &src, copies, err, errlen);
    if (rc == 0) {
        vd_log_manifest(e->dlog, src, copies[0]); /* before any worker may run the copies */
        for (int i = 0; i < e->nworkers; i++)
            vd_executor_offer(&e->workers[i].exec, copies[i]);
        vd_policy_src_unref(e->src);
        e->src = src;
        memcpy(e->version, src->version, sizeof e->version);
        memcpy(version, src->version, sizeof e->version);
        atomic_fetch_add(&e->reloads, 1);
        vd_log(VD_LOG_INFO, "policy reloaded: version %s", version);
    } else {
        atomic_fetch_add(&e->reload_failures, 1);
        vd_log(VD_LOG_ERROR, "policy reload failed, still serving %s: %s", e->version, err);
    }
    pthread_mutex_unlock(&e->reload_lock);
    free(copies);
    return rc;
}

void vd_engine_version(vd_engine_t *e, char *out) {
    pthread_mutex_lock(&e->reload_lock);
    memcpy(out, e->version, sizeof e->version);
    pthread_mutex_unlock(&e->reload_lock);
}

/* Adds one worker's figures into snap. */
static void add_worker(vd_stats_snapshot_t *snap, vd_worker_t *w) {
    vd_snapshot_add_serve(snap, &w->server.stats);
    snap->conns_total += vd_counter_get(&w->net.conns_total);
    snap->conns_open += vd_counter_get(&w->net.conns_open);
    snap->conns_idle_closed += vd_counter_get(&w->net.idle_closed);
    snap->conns_slow_closed += vd_counter_get(&w->net.slow_closed);
    snap->read_pauses += vd_counter_get(&w->net.read_pauses);
    snap->bytes_in += vd_counter_get(&w->net.bytes_in);
    snap->bytes_out += vd_counter_get(&w->net.bytes_out);
    snap->waiting += vd_counter_get(&w->exec.waiting_gauge);
    snap->waiting_bytes += vd_counter_get(&w->exec.held_gauge);
    vd_redis_totals_add(w->redis, &snap->redis);
}

int vd_engine_snapshot(vd_engine_t *e, vd_stats_snapshot_t *snap) {
    vd_stat_nodes_t *sets[256];
    int n = e->nworkers < 256 ? e->nworkers : 256;
    memset(snap, 0, sizeof *snap);
    for (int i = 0; i < n; i++) {
        sets[i] = &e->workers[i].exec.stats;
        add_worker(snap, &e->workers[i]);
    }
    vd_engine_version(e, snap->policy);
    snap->workers = e->nworkers;
    snap->reloads = atomic_load(&e->reloads);
    snap->reload_failures = atomic_load(&e->reload_failures);
    snap->accept_pauses = atomic_load(&e->acceptor.pauses);
    snap->uptime_s = (double)(vd_now_ns() - e->started_ns) / 1e9;
    snap->redis_address = e->cfg.redis_address;
    snap->state_fail_open = e->cfg.lua.state_fail_open;
    vd_store_stats(e->store, &snap->store);
    vd_campaigns_stats(e->campaigns, snap->campaigns);
    vd_persist_stats(&e->persist, &snap->persist);
    snap->decision_log = e->cfg.decision_log;
    vd_dlog_stats(e->dlog, &snap->dlog);
    return vd_stats_aggs_sum(sets, n, &snap->aggs) == 0 ? 0 : VD_ENOMEM;
}

static int metrics_snapshot(void *ud, vd_stats_snapshot_t *snap) {
    return vd_engine_snapshot(ud, snap);
}

static void reload_in_pool(uv_work_t *req) {
    vd_engine_t *e = req->data;
    char version[20], err[2048];
    vd_engine_reload(e, version, err, sizeof err);
}

static void reload_after(uv_work_t *req, int status) {
    (void)status;
    free(req);
}

static void on_signal(uv_signal_t *s, int signum) {
    vd_engine_t *e = s->data;
    if (signum == SIGHUP) {
        vd_dlog_reopen(e->dlog); /* logrotate moved the file: the next write opens it again */
        uv_work_t *req = calloc(1, sizeof *req);
        if (!req) return;
        req->data = e;
        vd_log(VD_LOG_INFO, "SIGHUP: reloading policies from %s", e->cfg.policy_dir);
        uv_queue_work(&e->loop, req, reload_in_pool, reload_after);
        return;
    }
    const char *name = signum == SIGTERM ? "SIGTERM" : "SIGINT";
    if (atomic_exchange(&e->draining, 1)) {
        /* An operator who asks twice wants out now: the replies still pending are lost. */
        vd_log(VD_LOG_WARN, "second %s while draining: exiting without waiting", name);
        _exit(1);
    }
    vd_log(VD_LOG_INFO, "%s: no longer accepting; draining in-flight requests", name);
    vd_acceptor_stop(e);
    vd_metrics_stop(e->metrics);
    vd_persist_stop(&e->persist); /* the last snapshot is written once the workers are done */
    for (int i = 0; i < e->nworkers; i++)
        vd_worker_drain(&e->workers[i]);
}

/* A worker's loop ended. When the last one did, the signal handlers go and the main loop ends
 * (until then a second SIGTERM/SIGINT is answered instead of killing the process). */
static void on_worker_done(uv_async_t *a) {
    vd_engine_t *e = a->data;
    int done = 0;
    for (int i = 0; i < e->nworkers; i++)
        done += atomic_load(&e->workers[i].finished);
    if (done < e->nworkers) return;
    uv_close((uv_handle_t *)&e->sig_term, NULL);
    uv_close((uv_handle_t *)&e->sig_int, NULL);
    uv_close((uv_handle_t *)&e->sig_hup, NULL);
    uv_close((uv_handle_t *)&e->worker_done, NULL);
    vd_list_watch_stop(&e->list_watch);
    vd_persist_stop(&e->persist);
}

static int start_workers(vd_engine_t *e, vd_policy_t **copies, char *err, size_t errlen) {
    e->workers = calloc((size_t)e->nworkers, sizeof *e->workers);
    if (!e->workers) return VD_ENOMEM;
    for (int i = 0; i < e->nworkers; i++) {
        int rc = vd_worker_init(&e->workers[i], e, i, copies[i]);
        if (rc) {
            snprintf(err, errlen, "cannot start worker %d: %s", i, vd_strerror(rc));
            return rc;
        }
    }
    for (int i = 0; i < e->nworkers; i++) {
        if (vd_worker_start(&e->workers[i]) != 0) {
            snprintf(err, errlen, "cannot start worker thread %d", i);
            return VD_EIO;
        }
    }
    return 0;
}

static void watch_signal(vd_engine_t *e, uv_signal_t *s, int signum) {
    uv_signal_init(&e->loop, s);
    s->data = e;
    uv_signal_start(s, on_signal, signum);
}

/* Undoes a start that failed before any worker ran. */
static void abandon_start(vd_engine_t *e, vd_policy_t **copies) {
    for (int i = 0; copies && i < e->nworkers; i++)
        vd_policy_unref(copies[i]);
    free(copies);
    vd_acceptor_stop(e);
    vd_policy_src_unref(e->src);
    e->src = NULL;
    vd_plugin_registry_close(&e->plugins);
    vd_persist_close(&e->persist);
    vd_dlog_stop(e->dlog, 0);
    e->dlog = NULL;
    vd_store_free(e->store);
    e->store = NULL;
    vd_campaigns_free(e->campaigns);
    e->campaigns = NULL;
    pthread_mutex_destroy(&e->reload_lock);
}

static void dlog_crashing(void *arg) {
    vd_dlog_crashing(arg);
}

/* The decision log, before the workers that write to it. */
static int start_decision_log(vd_engine_t *e, char *err, size_t errlen) {
    const vd_config_t *c = &e->cfg;
    if (!c->decision_log) return 0;
    vd_dlog_config_t dc = {.sink = {.path = c->decision_log,
                                    .max_bytes = c->decision_log_max_bytes,
                                    .max_age_s = c->decision_log_max_age_s,
                                    .keep = c->decision_log_keep},
                           .ring_bytes = c->decision_log_buffer,
                           .nrings = e->nworkers};
    int rc = vd_dlog_start(&e->dlog, &dc, err, errlen);
    if (rc == 0) {
        vd_crash_on_report(dlog_crashing, e->dlog);
        vd_log(VD_LOG_INFO, "decision log: %s", c->decision_log);
    }
    return rc;
}

/* Listener, signals and metrics on the main loop; fails only on the metrics address. */
static int start_main_loop(vd_engine_t *e, char *err, size_t errlen) {
    uv_loop_init(&e->loop);
    if (e->cfg.metrics_addr) {
        int rc = vd_metrics_start(&e->loop, metrics_snapshot, e, e->cfg.metrics_addr, &e->metrics,
                                  err, errlen);
        if (rc) {
            uv_loop_close(&e->loop);
            return rc;
        }
    }
    vd_acceptor_start(e);
    watch_signal(e, &e->sig_term, SIGTERM);
    watch_signal(e, &e->sig_int, SIGINT);
    watch_signal(e, &e->sig_hup, SIGHUP);
    uv_async_init(&e->loop, &e->worker_done, on_worker_done);
    e->worker_done.data = e;
    vd_list_watch_start(&e->list_watch, &e->loop, e->cfg.list_check_ms);
    vd_persist_start(&e->persist, &e->loop);
    return 0;
}

int vd_engine_start(vd_engine_t *e, const vd_config_t *cfg, char *err, size_t errlen) {
    memset(e, 0, sizeof *e);
    e->cfg = *cfg;
    e->started_ns = vd_now_ns();
    e->nworkers = cfg->workers > 0 ? cfg->workers : (int)sysconf(_SC_NPROCESSORS_ONLN);
    if (e->nworkers < 1) e->nworkers = 1;
    pthread_mutex_init(&e->reload_lock, NULL);
    vd_policy_t **copies = calloc((size_t)e->nworkers, sizeof *copies);
    int rc = vd_plugin_registry_init(&e->plugins, cfg->plugin_dirs, cfg->nplugin_dirs);
    e->store = vd_store_new(cfg->state_bytes);
    e->cfg.lua.store = e->store;
    e->campaigns = vd_campaigns_new(cfg->campaign_bytes);
    e->cfg.lua.campaigns = e->campaigns;
    if (!copies || rc || !e->store || !e->campaigns) {
        snprintf(err, errlen, "out of memory");
        abandon_start(e, copies);
        return VD_ENOMEM;
    }
    rc = load_all(e, &e->src, copies, err, errlen);
    if (rc == 0) {
        memcpy(e->version, e->src->version, sizeof e->version);
        rc = vd_acceptor_open(e, err, errlen);
    }
    /* The state comes back before any worker runs, and after the socket proved that no other
     * daemon runs there (and writes the same snapshot). */
    if (rc == 0)
        rc = vd_persist_init(&e->persist, e->store, e->campaigns, cfg->state_snapshot,
                             cfg->state_snapshot_interval_s, err, errlen);
    if (rc == 0) rc = start_decision_log(e, err, errlen);
    if (rc == 0) vd_log_manifest(e->dlog, e->src, copies[0]);
    if (rc == 0) rc = start_main_loop(e, err, errlen);
    if (rc) {
        abandon_start(e, copies);
        return rc;
    }
    rc = start_workers(e, copies, err, errlen); /* the workers now own the copies */
    free(copies);
    return rc;
}

int vd_engine_run(vd_engine_t *e) {
    uv_run(&e->loop, UV_RUN_DEFAULT);
    for (int i = 0; i < e->nworkers; i++)
        vd_worker_join(&e->workers[i]);
    vd_persist_final(&e->persist);
    /* Every decision has been answered: what the log still holds is written now. */
    vd_crash_on_report(NULL, NULL);
    vd_dlog_stop(e->dlog, e->cfg.drain_timeout_ms);
    e->dlog = NULL;
    return 0;
}

void vd_engine_close(vd_engine_t *e) {
    for (int i = 0; e->workers && i < e->nworkers; i++)
        vd_worker_close(&e->workers[i]);
    free(e->workers);
    uv_loop_close(&e->loop);
    vd_policy_src_unref(e->src);
    vd_plugin_registry_close(&e->plugins); /* after every instance was destroyed */
    vd_persist_close(&e->persist);
    vd_store_free(e->store);
    vd_campaigns_free(e->campaigns);
    pthread_mutex_destroy(&e->reload_lock);
}
