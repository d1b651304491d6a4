/* decide: params [pipeline, event] or [pipeline, event, options]. */
#include "../net/conn.h"
#include "decide.h"
#include "decision_pack.h"
#include "engine.h"
#include "error.h"
#include "methods.h"
#include "pipeline_run.h"
#include "request.h"
#include "worker.h"

#include <string.h>

typedef struct {
    int explain;
    int64_t deadline_ms;
} options_t;

/* Reads the options map; returns NULL or a static complaint. */
static const char *read_options(const msgpack_object *o, options_t *out) {
    if (o->type != MSGPACK_OBJECT_MAP) return "options must be a map";
    for (uint32_t i = 0; i < o->via.map.size; i++) {
        const msgpack_object *k = &o->via.map.ptr[i].key, *v = &o->via.map.ptr[i].val;
        if (k->type != MSGPACK_OBJECT_STR) return "option names must be strings";
        if (k->via.str.size == 7 && memcmp(k->via.str.ptr, "explain", 7) == 0) {
            if (v->type != MSGPACK_OBJECT_BOOLEAN) return "option explain must be a boolean";
            out->explain = v->via.boolean;
        } else if (k->via.str.size == 11 && memcmp(k->via.str.ptr, "deadline_ms", 11) == 0) {
            if (v->type != MSGPACK_OBJECT_POSITIVE_INTEGER || v->via.u64 > 3600000)
                return "option deadline_ms must be an integer from 0 to 3600000";
            out->deadline_ms = (int64_t)v->via.u64;
        } else {
            return "unknown option (known: explain, deadline_ms)";
        }
    }
    return NULL;
}

static const char *check_params(const msgpack_object *params, options_t *opt) {
    uint32_t n = params->via.array.size;
    const msgpack_object *p = params->via.array.ptr;
    if (n < 2 || n > 3) return "decide takes [pipeline, event] or [pipeline, event, options]";
    if (p[0].type != MSGPACK_OBJECT_STR) return "pipeline must be a string";
    if (p[1].type != MSGPACK_OBJECT_MAP) return "event must be a map";
    for (uint32_t i = 0; i < p[1].via.map.size; i++)
        if (p[1].via.map.ptr[i].key.type != MSGPACK_OBJECT_STR) return "event keys must be strings";
    return n == 3 ? read_options(&p[2], opt) : NULL;
}

static void unknown_pipeline(vd_conn_t *c, uint32_t msgid, const vd_policy_t *p,
                             const msgpack_object *name) {
    char known[512] = "";
    for (size_t i = 0; i < p->npipelines; i++)
        snprintf(known + strlen(known), sizeof known - strlen(known), "%s%s", i ? ", " : "",
                 p->pipelines[i].name);
    vd_reply_error(c, msgid, VD_RPC_UNKNOWN_PIPELINE, "no pipeline '%.*s' (loaded: %s)",
                   (int)(name->via.str.size > 96 ? 96 : name->via.str.size), name->via.str.ptr,
                   known);
}

void vd_decide_reply(vd_conn_t *c, uint32_t msgid, const vd_pipeline_t *pl,
                     const vd_policy_t *policy, const vd_decision_t *d, int rc, int64_t t0,
                     int64_t deadline_ms) {
    int64_t took = vd_now_ns() - t0;
    if (pl->stats) {
        vd_counter_add(&pl->stats->count, 1);
        vd_hist_add(&pl->stats->latency, took);
        if (rc)
            vd_counter_add(&pl->stats->errors, 1);
        else
            vd_stats_count_action(pl->stats, d->action);
    }
    if (rc == VD_ETIMEOUT) {
        vd_reply_error(c, msgid, VD_RPC_TIMEOUT,
                       "pipeline '%s' did not finish within its deadline of %lld ms", pl->name,
                       (long long)deadline_ms);
    } else if (rc) {
        vd_reply_error(c, msgid, VD_RPC_INTERNAL, "decision failed: %s", vd_strerror(rc));
    } else {
        vd_counter_add(&c->w->stats.decisions, 1);
        vd_rpc_pack_result_head(&c->pk, msgid);
        vd_decision_meta_t meta = {pl->name, vd_policy_version(policy), took / 1000};
        vd_decision_pack(&c->pk, d, &meta);
    }
}

void vd_method_decide(vd_conn_t *c, const vd_rpc_msg_t *m) {
    int64_t t0 = vd_now_ns();
    vd_worker_t *w = c->w;
    options_t opt = {.deadline_ms = w->engine->cfg.deadline_ms};
    const char *bad = check_params(m->params, &opt);
    if (bad) {
        vd_reply_error(c, m->msgid, VD_RPC_BAD_REQUEST, "%s", bad);
        return;
    }
    const msgpack_object *name = &m->params->via.array.ptr[0];
    vd_policy_t *policy = w->policy;
    const vd_pipeline_t *pl = vd_policy_pipeline(policy, name->via.str.ptr, name->via.str.size);
    if (!pl) {
        unknown_pipeline(c, m->msgid, policy, name);
        return;
    }
    if (pl->has_plugins || w->redis) {
        if (w->nrequests >= w->engine->cfg.max_pending) {
            vd_reply_error(c, m->msgid, VD_RPC_OVERLOADED,
                           "%d decisions are already waiting for plugins or state on this worker",
                           w->nrequests);
            return;
        }
        /* May wait for plugins or Redis: the request keeps its own copy of the frame. */
        vd_request_start(c, m->msgid, policy, pl, c->frame, c->frame_len, opt.explain,
                         opt.deadline_ms, t0);
        return;
    }
    /* Lua only: decided now, in the worker's reusable arena, straight from the read buffer. */
    vd_decision_t d;
    vd_decision_init(&d, &w->arena, opt.explain);
    vd_run_state_t rs = {0};
    int64_t deadline = opt.deadline_ms ? t0 + opt.deadline_ms * 1000000 : 0;
    int rc = vd_pipeline_run(policy, pl, &m->params->via.array.ptr[1], &d, deadline, &rs);
    vd_decide_reply(c, m->msgid, pl, policy, &d, rc, t0, opt.deadline_ms);
}
