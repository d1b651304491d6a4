#include "method_admin.h"

#include "base/error.h"
#include "plugin/stage.h"
#include "policy/schema.h"
#include "server.h"
#include "stage_info.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void vd_method_ping(vd_server_t *s, vd_conn_t *c, vd_inbound_t **in) {
    (void)s;
    vd_rpc_pack_result_head(&c->pk, (*in)->msg.msgid);
    vd_pack_cstr(&c->pk, "pong");
}

static void pack_plugin(msgpack_packer *pk, const vd_plugin_stage_t *ps) {
    vd_pack_cstr(pk, "plugin");
    msgpack_pack_map(pk, 5);
    vd_pack_cstr(pk, "info");
    vd_pack_stage_info(pk, ps);
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

void vd_method_pipelines(vd_server_t *s, vd_conn_t *c, vd_inbound_t **in) {
    const vd_policy_t *p = s->x->policy;
    msgpack_packer *pk = &c->pk;
    vd_rpc_pack_result_head(pk, (*in)->msg.msgid);
    msgpack_pack_array(pk, p->npipelines);
    for (size_t i = 0; i < p->npipelines; i++) {
        const vd_pipeline_t *pl = &p->pipelines[i];
        msgpack_pack_map(pk, 7);
        vd_pack_cstr(pk, "name");
        vd_pack_cstr(pk, pl->name);
        vd_pack_cstr(pk, "fields"); /* the event schema: name -> "type", "type?" optional */
        msgpack_pack_map(pk, pl->fields.n);
        for (size_t f = 0; f < pl->fields.n; f++) {
            const vd_schema_field_t *fd = &pl->fields.fields[f];
            char type[32];
            snprintf(type, sizeof type, "%s%s", vd_field_type_name(fd->type),
                     fd->optional ? "?" : "");
            vd_pack_cstr(pk, fd->name);
            vd_pack_cstr(pk, type);
        }
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
        for (size_t st = 0; st < pl->nstages; st++)
            pack_stage(pk, &pl->stages[st]);
    }
}

/* reload runs on the libuv thread pool: compiling policies must not stall this loop. */
typedef struct reload {
    uv_work_t req;
    vd_server_t *server;
    vd_conn_t *conn;
    uint32_t msgid;
    int rc;
    char version[20];
    char err[2048];
} reload_t;

static void reload_work(uv_work_t *req) {
    reload_t *r = req->data;
    vd_server_hooks_t *h = &r->server->hooks;
    r->rc = h->reload(h->ud, r->version, r->err, sizeof r->err);
}

static void reload_done(uv_work_t *req, int status) {
    reload_t *r = req->data;
    vd_conn_t *c = r->conn;
    vd_server_t *s = r->server;
    vd_executor_adopt(s->x);
    if (!c->closing) {
        if (status < 0) {
            vd_server_error(s, c, r->msgid, VD_RPC_INTERNAL, "reload was cancelled");
        } else if (r->rc) {
            /* Only running out of memory is the daemon's fault; anything else the policy files
             * caused, and their author must fix them. */
            vd_server_error(s, c, r->msgid,
                            r->rc == VD_ENOMEM ? VD_RPC_INTERNAL : VD_RPC_POLICY_ERROR,
                            "reload failed, still serving the previous policy: %s", r->err);
        } else {
            vd_rpc_pack_result_head(&c->pk, r->msgid);
            vd_pack_cstr(&c->pk, r->version);
        }
    }
    vd_conn_end_op(c);
    free(r);
}

void vd_method_reload(vd_server_t *s, vd_conn_t *c, vd_inbound_t **in) {
    const vd_rpc_msg_t *m = &(*in)->msg;
    if (s->hooks.shutting_down(s->hooks.ud)) {
        vd_server_error(s, c, m->msgid, VD_RPC_SHUTTING_DOWN, "verdictd is shutting down");
        return;
    }
    reload_t *r = calloc(1, sizeof *r);
    if (!r) {
        vd_server_error(s, c, m->msgid, VD_RPC_INTERNAL, "out of memory");
        return;
    }
    r->server = s;
    r->conn = c;
    r->msgid = m->msgid;
    r->req.data = r;
    vd_conn_begin_op(c);
    int rc = uv_queue_work(s->loop, &r->req, reload_work, reload_done);
    if (rc < 0) {
        c->ops--;
        vd_conn_release(c);
        free(r);
        vd_server_error(s, c, m->msgid, VD_RPC_INTERNAL, "cannot start reload: %s",
                        uv_strerror(rc));
    }
}
