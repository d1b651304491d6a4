#include "dispatch.h"

#include "../net/conn.h"
#include "../proto/frame.h"
#include "engine.h"
#include "methods.h"
#include "worker.h"

#include <stdarg.h>
#include <stdio.h>

void vd_reply_error(vd_conn_t *c, uint32_t msgid, vd_rpc_err_t code, const char *fmt, ...) {
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    vd_counter_add(&c->w->stats.errors[code], 1);
    vd_rpc_pack_error(&c->pk, msgid, code, msg);
}

/* A frame whose envelope is unusable: answer if a msgid is known, then close. */
static void envelope_error(vd_conn_t *c, int has_msgid, uint32_t msgid, const char *why) {
    if (has_msgid)
        vd_reply_error(c, msgid, VD_RPC_BAD_REQUEST, "%s", why);
    else
        vd_counter_add(&c->w->stats.errors[VD_RPC_BAD_REQUEST], 1);
    c->close_after_flush = 1;
    if (!has_msgid) vd_conn_close(c);
}

static const vd_method_t *find_method(const vd_rpc_msg_t *m) {
    for (const vd_method_t *mt = vd_methods; mt->name; mt++)
        if (vd_rpc_method_is(m, mt->name)) return mt;
    return NULL;
}

void vd_dispatch_frame(vd_conn_t *c, const char *data, size_t len) {
    vd_worker_t *w = c->w;
    msgpack_object root;
    size_t off = 0;
    c->frame = data;
    c->frame_len = len;
    if (msgpack_unpack(data, len, &off, &w->zone, &root) != MSGPACK_UNPACK_SUCCESS) {
        uint32_t msgid;
        int has = vd_frame_peek_msgid((const uint8_t *)data, len, &msgid) == 0;
        envelope_error(c, has, msgid, "malformed msgpack (or nested deeper than 32 levels)");
    } else {
        vd_rpc_msg_t m;
        const char *why;
        if (vd_rpc_decode(&root, &m, &why) != 0) {
            envelope_error(c, m.has_msgid, m.msgid, why);
        } else if (m.kind == VD_RPC_NOTIFY) {
            vd_counter_add(&w->stats.notifications, 1); /* accepted and ignored */
        } else {
            vd_counter_add(&w->stats.requests, 1);
            const vd_method_t *mt = find_method(&m);
            if (mt)
                mt->handle(c, &m);
            else
                vd_reply_error(c, m.msgid, VD_RPC_UNKNOWN_METHOD,
                               "unknown method '%.*s' (known: decide, ping, pipelines, stats, "
                               "reload)",
                               (int)(m.method_len > 64 ? 64 : m.method_len), m.method);
        }
    }
    msgpack_zone_clear(&w->zone);
    vd_arena_reset(&w->arena);
}
