/* ping, pipelines, stats and reload; decide lives in method_decide.c. */
#include "methods.h"

#include "../core/log.h"
#include "../net/conn.h"
#include "../plugin/stage.h"
#include "../state/list.h"
#include "../state/redis.h"
#include "../state/store.h"
#include "engine.h"
#include "pipeline_run.h"
#include "worker.h"

#include <stdlib.h>
#include <string.h>

void vd_method_decide(vd_conn_t *c, const vd_rpc_msg_t *m);

static void method_ping(vd_conn_t *c, const vd_rpc_msg_t *m) {
    vd_rpc_pack_result_head(&c->pk, m->msgid);
    vd_pack_cstr(&c->pk, "pong");
}

/* A plugin stage: which plugin, from which file, in which version, with which deadline. */
static void pack_info(msgpack_packer *pk, const vd_plugin_stage_t *ps) {
    msgpack_pack_map(pk, ps->ninfo);
    for (size_t i = 0; i < ps->ninfo; i++) {
        vd_pack_cstr(pk, ps->info[2 * i]);
        vd_pack_cstr(pk, ps->info[2 * i + 1]);
    }
}

static void pack_plugin(msgpack_packer *pk, const vd_plugin_stage_t *ps) {
    vd_pack_cstr(pk, "plugin");
    msgpack_pack_map(pk, 5);
    vd_pack_cstr(pk, "info");
    pack_info(pk, ps);
    vd_pack_cstr(pk, "name");
    vd_pack_cstr(pk, ps->lib->desc->name);
    vd_pack_cstr(pk, "version");
    vd_pack_cstr(pk, ps->lib->desc->version ? ps->lib->desc->version : "");
    vd_pack_cstr(pk, "file");
    vd_pack_cstr(pk, ps->lib->path);
    vd_pack_cstr(pk, "timeout_ms");
    msgpack_pack_int(pk, ps->timeout_ms);
}

static void pack_stage(msgpack_packer *pk, const vd_stage_t *st) {
    int plugin = st->kind == VD_STAGE_PLUGIN;
    msgpack_pack_map(pk, 5);
    vd_pack_cstr(pk, "name");
    vd_pack_cstr(pk, st->name);
    vd_pack_cstr(pk, "kind");
    vd_pack_cstr(pk, plugin ? "plugin" : "rules");
    vd_pack_cstr(pk, "shadow");
    st->shadow ? msgpack_pack_true(pk) : msgpack_pack_false(pk);
    vd_pack_cstr(pk, "on_error");
    vd_pack_cstr(pk, st->on_error ? st->on_error : "open");
    if (plugin) {
        pack_plugin(pk, st->plugin);
        return;
    }
    vd_pack_cstr(pk, "rules");
    msgpack_pack_array(pk, st->nrules);
    for (size_t r = 0; r < st->nrules; r++)
        vd_pack_cstr(pk, st->rules[r]->name);
}

static void method_pipelines(vd_conn_t *c, const vd_rpc_msg_t *m) {
    const vd_policy_t *p = c->w->policy;
    msgpack_packer *pk = &c->pk;
    vd_rpc_pack_result_head(pk, m->msgid);
    msgpack_pack_array(pk, p->npipelines);
    for (size_t i = 0; i < p->npipelines; i++) {
        const vd_pipeline_t *pl = &p->pipelines[i];
        msgpack_pack_map(pk, 6);
        vd_pack_cstr(pk, "name");
        vd_pack_cstr(pk, pl->name);
        vd_pack_cstr(pk, "description");
        vd_pack_cstr(pk, pl->description ? pl->description : "");
        vd_pack_cstr(pk, "file");
        vd_pack_cstr(pk, pl->file);
        vd_pack_cstr(pk, "default");
        vd_pack_cstr(pk, pl->default_action);
        vd_pack_cstr(pk, "actions");
        msgpack_pack_map(pk, pl->nactions);
        for (size_t a = 0; a < pl->nactions; a++) {
            vd_pack_cstr(pk, pl->actions[a].name);
            msgpack_pack_double(pk, pl->actions[a].bound);
        }
        vd_pack_cstr(pk, "stages");
        msgpack_pack_array(pk, pl->nstages);
        for (size_t s = 0; s < pl->nstages; s++)
            pack_stage(pk, &pl->stages[s]);
    }
}

/* stats "plugins": what each plugin stage of the serving policy runs (model versions). */
static void pack_plugin_stages(msgpack_packer *pk, const vd_policy_t *p) {
    size_t n = 0;
    for (size_t i = 0; i < p->npipelines; i++)
        for (size_t s = 0; s < p->pipelines[i].nstages; s++)
            n += p->pipelines[i].stages[s].kind == VD_STAGE_PLUGIN;
    vd_pack_cstr(pk, "plugins");
    msgpack_pack_array(pk, n);
    for (size_t i = 0; i < p->npipelines; i++) {
        for (size_t s = 0; s < p->pipelines[i].nstages; s++) {
            const vd_stage_t *st = &p->pipelines[i].stages[s];
            if (st->kind != VD_STAGE_PLUGIN) continue;
            msgpack_pack_map(pk, 5);
            vd_pack_cstr(pk, "pipeline");
            vd_pack_cstr(pk, p->pipelines[i].name);
            vd_pack_cstr(pk, "stage");
            vd_pack_cstr(pk, st->name);
            vd_pack_cstr(pk, "plugin");
            vd_pack_cstr(pk, st->plugin->lib->desc->name);
            vd_pack_cstr(pk, "version");
            vd_pack_cstr(pk, st->plugin->lib->desc->version ? st->plugin->lib->desc->version : "");
            vd_pack_cstr(pk, "info");
            pack_info(pk, st->plugin);
        }
    }
}

/* stats "state": the embedded store's size and churn. */
/* The Redis clients of every worker, summed. */
static void pack_redis(msgpack_packer *pk, const vd_engine_t *e) {
    vd_redis_totals_t t = {0};
    for (int i = 0; i < e->nworkers; i++)
        vd_redis_totals_add(e->workers[i].redis, &t);
    const uint64_t v[] = {t.ops, t.fallbacks, t.timeouts, t.connects, t.connected};
    static const char *const names[] = {"ops", "fallbacks", "timeouts", "connects",
                                        "connected_workers"};
    vd_pack_cstr(pk, "redis");
    msgpack_pack_map(pk, 6);
    vd_pack_cstr(pk, "address");
    vd_pack_cstr(pk, e->cfg.redis_address);
    for (int i = 0; i < 5; i++)
        vd_pack_u64(pk, names[i], v[i]);
}

static void pack_state(msgpack_packer *pk, const vd_engine_t *e) {
    vd_store_stats_t st;
    vd_store_stats(e->store, &st);
    vd_pack_cstr(pk, "state");
    msgpack_pack_map(pk, e->cfg.redis_address ? 7 : 6);
    vd_pack_cstr(pk, "backend");
    vd_pack_cstr(pk, e->cfg.redis_address ? "redis" : "embedded");
    vd_pack_cstr(pk, "fallback");
    vd_pack_cstr(pk, e->cfg.lua.state_fail_open ? "open" : "local");
    if (e->cfg.redis_address) pack_redis(pk, e);
    vd_pack_u64(pk, "entries", st.entries);
    vd_pack_u64(pk, "bytes", st.bytes);
    vd_pack_u64(pk, "evictions", st.evictions);
    vd_pack_u64(pk, "expired", st.expired);
}

static void pack_list(const vd_list_info_t *l, size_t i, size_t n, void *arg) {
    msgpack_packer *pk = arg;
    if (i == 0) msgpack_pack_array(pk, n);
    msgpack_pack_map(pk, 9);
    vd_pack_cstr(pk, "path");
    vd_pack_cstr(pk, l->path);
    vd_pack_cstr(pk, "kind");
    vd_pack_cstr(pk, vd_list_kind_name(l->kind));
    vd_pack_u64(pk, "entries", l->entries);
    vd_pack_u64(pk, "bytes", l->bytes);
    vd_pack_u64(pk, "version", l->version);
    vd_pack_u64(pk, "reloads", l->reloads);
    vd_pack_u64(pk, "errors", l->errors);
    vd_pack_u64(pk, "skipped_lines", l->skipped);
    vd_pack_cstr(pk, "load_seconds");
    msgpack_pack_double(pk, l->load_seconds);
}

/* stats "lists": every list file the process holds. */
static void pack_lists(msgpack_packer *pk) {
    vd_pack_cstr(pk, "lists");
    if (vd_lists_each(pack_list, pk) == 0) msgpack_pack_array(pk, 0);
}

static void pack_extra(msgpack_packer *pk, const void *ctx) {
    const vd_worker_t *w = ctx;
    pack_plugin_stages(pk, w->policy);
    pack_state(pk, w->engine);
    pack_lists(pk);
}

static void method_stats(vd_conn_t *c, const vd_rpc_msg_t *m) {
    vd_stats_snapshot_t snap;
    vd_stats_globals_t g;
    char version[20];
    int rc = vd_engine_stats(c->w->engine, &snap, &g, version);
    g.nextra = 3;
    g.pack_extra = pack_extra;
    g.extra_ctx = c->w;
    if (rc != 0) {
        vd_reply_error(c, m->msgid, VD_RPC_INTERNAL, "out of memory");
    } else {
        vd_rpc_pack_result_head(&c->pk, m->msgid);
        vd_stats_pack(&c->pk, &snap, &g);
    }
    vd_stats_snapshot_free(&snap);
}

/* reload runs on the libuv thread pool: compiling policies must not stall this loop. */
typedef struct {
    uv_work_t req;
    vd_conn_t *conn;
    uint32_t msgid;
    int rc;
    char version[20];
    char err[2048];
} reload_t;

static void reload_work(uv_work_t *req) {
    reload_t *r = req->data;
    r->rc = vd_engine_reload(r->conn->w->engine, r->version, r->err, sizeof r->err);
}

static void reload_done(uv_work_t *req, int status) {
    reload_t *r = req->data;
    vd_conn_t *c = r->conn;
    vd_worker_adopt_pending(c->w);
    if (!c->closing) {
        if (status < 0) {
            vd_reply_error(c, r->msgid, VD_RPC_INTERNAL, "reload was cancelled");
        } else if (r->rc) {
            vd_reply_error(c, r->msgid, VD_RPC_INTERNAL,
                           "reload failed, still serving the "
                           "previous policy: %s",
                           r->err);
        } else {
            vd_rpc_pack_result_head(&c->pk, r->msgid);
            vd_pack_cstr(&c->pk, r->version);
        }
    }
    vd_conn_end_op(c);
    free(r);
}

static void method_reload(vd_conn_t *c, const vd_rpc_msg_t *m) {
    if (c->w->draining || atomic_load(&c->w->engine->draining)) {
        vd_reply_error(c, m->msgid, VD_RPC_SHUTTING_DOWN, "verdictd is shutting down");
        return;
    }
    reload_t *r = calloc(1, sizeof *r);
    if (!r) {
        vd_reply_error(c, m->msgid, VD_RPC_INTERNAL, "out of memory");
        return;
    }
    r->conn = c;
    r->msgid = m->msgid;
    r->req.data = r;
    vd_conn_begin_op(c);
    int rc = uv_queue_work(&c->w->loop, &r->req, reload_work, reload_done);
    if (rc < 0) {
        c->ops--;
        vd_conn_release(c);
        free(r);
        vd_reply_error(c, m->msgid, VD_RPC_INTERNAL, "cannot start reload: %s", uv_strerror(rc));
    }
}

const vd_method_t vd_methods[] = {
    {"decide", vd_method_decide}, {"ping", method_ping},     {"pipelines", method_pipelines},
    {"stats", method_stats},      {"reload", method_reload}, {NULL, NULL},
};
