#include "server.h"

#include "base/error.h"
#include "base/utf8.h"
#include "methods.h"
#include "policy/policy.h"
#include "proto/frame.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

void vd_server_init(vd_server_t *s, vd_executor_t *x, uv_loop_t *loop, int deadline_ms,
                    const vd_server_hooks_t *hooks, struct vd_dlog_lane *log) {
    memset(s, 0, sizeof *s);
    s->x = x;
    s->loop = loop;
    s->deadline_ms = deadline_ms;
    s->hooks = *hooks;
    s->log = log;
    vd_ulid_init(&s->ids);
    s->sample_state = s->ids.s[0] | 1;
    s->report_limit = 100;
    msgpack_sbuffer_init(&s->record);
    msgpack_sbuffer_init(&s->record_scratch);
}

void vd_server_close(vd_server_t *s) {
    while (s->nspare > 0)
        vd_inbound_free(s->spare[--s->nspare]);
    msgpack_sbuffer_destroy(&s->record);
    msgpack_sbuffer_destroy(&s->record_scratch);
}

void vd_server_recycle(vd_server_t *s, vd_inbound_t *in) {
    if (!in) return;
    if (s->nspare == VD_SERVER_SPARES || in->cap > VD_SERVER_SPARE_BYTES) {
        vd_inbound_free(in);
        return;
    }
    vd_inbound_clear(in);
    s->spare[s->nspare++] = in;
}

void vd_server_error(vd_server_t *s, vd_conn_t *c, uint32_t msgid, vd_rpc_err_t code,
                     const char *fmt, ...) {
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    vd_counter_add(&s->stats.errors[code], 1);
    vd_rpc_pack_error(&c->pk, msgid, code, msg);
}

void vd_server_unknown_pipeline(vd_server_t *s, vd_conn_t *c, uint32_t msgid, const char *name,
                                size_t len) {
    const vd_policy_t *policy = s->x->policy;
    char known[512] = "";
    for (size_t i = 0; i < policy->npipelines; i++)
        snprintf(known + strlen(known), sizeof known - strlen(known), "%s%s", i ? ", " : "",
                 policy->pipelines[i].name);
    vd_server_error(s, c, msgid, VD_RPC_UNKNOWN_PIPELINE, "no pipeline '%.*s' (loaded: %s)",
                    (int)vd_utf8_cut(name, len, 96), name, known);
}

/* A frame whose envelope is unusable costs only itself (DESIGN section 3): answered when its
 * msgid can be read, else counted and ignored; the connection goes on with the next frame. */
static void envelope_error(vd_server_t *s, vd_conn_t *c, const vd_rpc_msg_t *m, const char *why) {
    if (m->has_msgid)
        vd_server_error(s, c, m->msgid, VD_RPC_BAD_REQUEST, "%s", why);
    else
        vd_counter_add(&s->stats.errors[VD_RPC_BAD_REQUEST], 1);
}

void vd_server_frame(vd_server_t *s, vd_conn_t *c, const char *data, size_t len) {
    vd_inbound_t *in = s->nspare ? s->spare[--s->nspare] : vd_inbound_new();
    const char *why = NULL;
    int rc = in ? vd_inbound_read(in, data, len, &why) : VD_ENOMEM;
    if (rc == VD_ENOMEM) {
        uint32_t msgid;
        if (vd_frame_peek_msgid((const uint8_t *)data, len, &msgid) == 0)
            vd_server_error(s, c, msgid, VD_RPC_INTERNAL, "out of memory");
        else
            vd_counter_add(&s->stats.errors[VD_RPC_INTERNAL], 1);
    } else if (rc != 0) {
        envelope_error(s, c, &in->msg, why);
    } else if (in->msg.kind == VD_RPC_NOTIFY) {
        vd_counter_add(&s->stats.notifications, 1); /* accepted and ignored */
    } else {
        vd_counter_add(&s->stats.requests, 1);
        const vd_method_t *mt = vd_method_find(in->msg.method, in->msg.method_len);
        if (mt && mt->admin && !c->peer.admin)
            vd_server_error(s, c, in->msg.msgid, VD_RPC_FORBIDDEN,
                            "%s changes state: call it on the admin socket (verdictd "
                            "--admin-socket PATH), not on this one",
                            mt->name);
        else if (mt)
            mt->handle(s, c, &in);
        else
            vd_server_error(s, c, in->msg.msgid, VD_RPC_UNKNOWN_METHOD,
                            "unknown method '%.*s' (known: %s)",
                            (int)vd_utf8_cut(in->msg.method, in->msg.method_len, 64),
                            in->msg.method, vd_method_names());
    }
    vd_server_recycle(s, in);
}
