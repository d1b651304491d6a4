#include "offline.h"

#include "base/error.h"
#include "decision/decision_pack.h"
#include "event_check.h"
#include "plugin/registry.h"
#include "policy/source.h"
#include "proto/decide_params.h"
#include "proto/json_msgpack.h"
#include "request.h"
#include "state/campaign.h"
#include "state/store.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* What an executor opened on a directory owns besides itself. */
struct vd_offline {
    vd_executor_t x;
    vd_plugin_registry_t plugins;
    struct vd_store *own_store; /* when the caller gave none */
    struct vd_campaigns *own_campaigns;
    pthread_cond_t wake;   /* with x.done_lock: a plugin completed a call */
    int64_t next_deadline; /* of the earliest pending plugin call; 0: none */
    vd_result_t *res;      /* the run in progress */
    int ended;
    vd_request_t *held; /* the last decision, kept for its result */
    msgpack_zone zone;  /* events given as bytes or JSON */
    msgpack_sbuffer sbuf;
};

static void offline_wake(void *ud) {
    struct vd_offline *o = ud;
    pthread_cond_signal(&o->wake);
}

static void offline_arm(void *ud, int64_t deadline_ns) {
    struct vd_offline *o = ud;
    o->next_deadline = deadline_ns;
}

static void release_held(struct vd_offline *o) {
    if (o->held) vd__request_release(o->held);
    o->held = NULL;
}

static void free_offline(struct vd_offline *o) {
    release_held(o);
    vd_executor_close(&o->x);
    vd_plugin_registry_close(&o->plugins); /* after every instance was destroyed */
    vd_store_free(o->own_store);
    vd_campaigns_free(o->own_campaigns);
    pthread_cond_destroy(&o->wake);
    msgpack_zone_destroy(&o->zone);
    msgpack_sbuffer_destroy(&o->sbuf);
    free(o);
}

static int load(struct vd_offline *o, const vd_offline_config_t *cfg, vd_policy_t **out, char *err,
                size_t errlen) {
    vd_lua_limits_t limits = {
        .mem_limit = cfg->lua_memory ? cfg->lua_memory : (size_t)256 << 20,
        .call_mem_limit = (size_t)32 << 20,
        .instr_limit = cfg->lua_instructions ? cfg->lua_instructions : 1000000,
        .regex_limit = 100000,
        .data_dir = cfg->data_dir,
        .store = cfg->store ? cfg->store : o->own_store,
        .campaigns = cfg->campaigns ? cfg->campaigns : o->own_campaigns,
    };
    vd_policy_src_t *src = NULL;
    int rc = vd_policy_src_read(cfg->policy_dir, &src, err, errlen);
    if (rc == 0) rc = vd_policy_load(src, &limits, &o->plugins, out, err, errlen);
    vd_policy_src_unref(src);
    return rc;
}

int vd_executor_open(vd_executor_t **out, const vd_offline_config_t *cfg, char *err,
                     size_t errlen) {
    struct vd_offline *o = calloc(1, sizeof *o);
    if (!o) return snprintf(err, errlen, "out of memory"), VD_ENOMEM;
    msgpack_zone_init(&o->zone, 4096);
    msgpack_sbuffer_init(&o->sbuf);
    pthread_condattr_t attr;
    pthread_condattr_init(&attr);
    pthread_condattr_setclock(&attr, CLOCK_MONOTONIC); /* deadlines are vd_now_ns() values */
    pthread_cond_init(&o->wake, &attr);
    pthread_condattr_destroy(&attr);
    int rc = vd_plugin_registry_init(&o->plugins, cfg->plugin_dirs, cfg->nplugin_dirs);
    if (rc == 0 && !cfg->store && !(o->own_store = vd_store_new((size_t)64 << 20))) rc = VD_ENOMEM;
    if (rc == 0 && !cfg->campaigns && !(o->own_campaigns = vd_campaigns_new((size_t)16 << 20)))
        rc = VD_ENOMEM;
    if (rc) snprintf(err, errlen, "out of memory");
    vd_policy_t *p = NULL;
    if (rc == 0) rc = load(o, cfg, &p, err, errlen);
    vd_executor_env_t env = {
        .state = {cfg->store ? cfg->store : o->own_store, NULL, 0,
                  cfg->campaigns ? cfg->campaigns : o->own_campaigns},
        .clock = cfg->clock,
        .hooks = {offline_wake, offline_arm, o},
    };
    if (rc == 0 && (rc = vd_executor_init(&o->x, &env, p)) != 0) {
        vd_policy_unref(p);
        snprintf(err, errlen, "out of memory");
    }
    if (rc) {
        vd_plugin_registry_close(&o->plugins);
        vd_store_free(o->own_store);
        vd_campaigns_free(o->own_campaigns);
        pthread_cond_destroy(&o->wake);
        msgpack_zone_destroy(&o->zone);
        msgpack_sbuffer_destroy(&o->sbuf);
        free(o);
        return rc;
    }
    o->x.offline = o;
    *out = &o->x;
    return 0;
}

void vd_executor_free(vd_executor_t *x) {
    if (x) free_offline(x->offline);
}

/* The decision ended: keep the request (and the arena its decision lives in) until the next. */
static void ended(vd_request_t *r, int rc) {
    struct vd_offline *o = r->in.ud;
    vd_result_t *res = o->res;
    res->rc = rc;
    res->elapsed_ns = r->elapsed_ns;
    res->d = rc == 0 ? &r->d : NULL;
    snprintf(res->policy, sizeof res->policy, "%s", vd_policy_version(r->policy));
    if (rc == VD_ETIMEOUT)
        snprintf(res->error, sizeof res->error, "pipeline '%s' did not finish within its deadline",
                 res->pipeline);
    else if (rc)
        snprintf(res->error, sizeof res->error, "decision failed: %s", vd_strerror(rc));
    vd__request_hold(r);
    o->held = r;
    o->ended = 1;
}

/* Waits for the plugin calls of the run in progress: their completions, or their deadlines. */
static void wait_for_calls(struct vd_offline *o) {
    vd_executor_t *x = &o->x;
    while (!o->ended) {
        pthread_mutex_lock(&x->done_lock);
        if (!x->done_head) { /* the condition variable waits on the monotonic clock */
            int64_t until = o->next_deadline ? o->next_deadline : vd_now_ns() + 1000000000;
            struct timespec at = {until / 1000000000, until % 1000000000};
            pthread_cond_timedwait(&o->wake, &x->done_lock, &at);
        }
        pthread_mutex_unlock(&x->done_lock);
        vd_executor_process(x);
        if (!o->ended && o->next_deadline && vd_now_ns() >= o->next_deadline)
            vd_executor_expire(x, vd_now_ns());
    }
}

static int fail(vd_result_t *res, int rc, const char *fmt, const char *arg) {
    res->rc = rc;
    snprintf(res->error, sizeof res->error, fmt, arg);
    return rc;
}

int vd_executor_run(vd_executor_t *x, const char *pipeline, const msgpack_object *event,
                    const vd_run_opts_t *opts, vd_result_t *res) {
    struct vd_offline *o = x->offline;
    static const vd_run_opts_t none = {0};
    if (!opts) opts = &none;
    memset(res, 0, sizeof *res);
    snprintf(res->pipeline, sizeof res->pipeline, "%s", pipeline);
    release_held(o);
    const vd_pipeline_t *pl = vd_executor_pipeline(x, pipeline, strlen(pipeline));
    if (!pl) return fail(res, VD_ENOTFOUND, "no pipeline '%s'", pipeline);
    const char *bad = vd_decide_check_event(event);
    if (bad) return fail(res, VD_EINVAL, "%s", bad);
    if (vd_event_check(pl, event, res->error, sizeof res->error) != 0) return res->rc = VD_EINVAL;
    vd_decide_req_t req = {.pl = pl,
                           .event = event,
                           .explain = opts->explain,
                           .deadline_ms = opts->deadline_ms,
                           .now_s = opts->now_s,
                           .observe = opts->observe,
                           .recorded = opts->recorded,
                           .reporting = opts->reporting,
                           .keep = 1,
                           .done = ended,
                           .ud = o};
    o->res = res;
    o->ended = 0;
    o->next_deadline = 0;
    int rc = vd_executor_decide(x, &req);
    if (rc) return fail(res, rc, "%s", vd_strerror(rc));
    wait_for_calls(o);
    o->res = NULL;
    return res->rc;
}

/* Decodes data into the zone (objects may point into data, which outlives the run). */
static int unpack(struct vd_offline *o, const char *data, size_t len, msgpack_object *ev,
                  vd_result_t *res) {
    msgpack_zone_clear(&o->zone);
    size_t off = 0;
    if (msgpack_unpack(data, len, &off, &o->zone, ev) == MSGPACK_UNPACK_SUCCESS) return 0;
    memset(res, 0, sizeof *res);
    return fail(res, VD_EINVAL, "%s", "the event is not valid msgpack");
}

int vd_executor_run_msgpack(vd_executor_t *x, const char *pipeline, const char *data, size_t len,
                            const vd_run_opts_t *opts, vd_result_t *res) {
    struct vd_offline *o = x->offline;
    msgpack_object ev;
    release_held(o); /* its event may live in the zone */
    int rc = unpack(o, data, len, &ev, res);
    return rc ? rc : vd_executor_run(x, pipeline, &ev, opts, res);
}

int vd_executor_run_json(vd_executor_t *x, const char *pipeline, const char *json, size_t len,
                         const vd_run_opts_t *opts, vd_result_t *res) {
    struct vd_offline *o = x->offline;
    json_error_t jerr;
    json_t *j = json_loadb(json, len, 0, &jerr);
    if (!j) {
        memset(res, 0, sizeof *res);
        res->rc = VD_EINVAL;
        snprintf(res->error, sizeof res->error, "the event is not valid JSON: %s (line %d)",
                 jerr.text, jerr.line);
        return res->rc;
    }
    release_held(o);
    msgpack_sbuffer_clear(&o->sbuf);
    msgpack_packer pk;
    msgpack_packer_init(&pk, &o->sbuf, msgpack_sbuffer_write);
    vd_json_pack(&pk, j);
    json_decref(j);
    msgpack_object ev;
    int rc = unpack(o, o->sbuf.data, o->sbuf.size, &ev, res);
    return rc ? rc : vd_executor_run(x, pipeline, &ev, opts, res);
}

void vd_result_pack(msgpack_sbuffer *sb, const vd_result_t *res) {
    vd_decision_meta_t meta = {res->pipeline, res->policy, res->elapsed_ns / 1000};
    vd_decision_pack(sb, res->d, &meta);
}
