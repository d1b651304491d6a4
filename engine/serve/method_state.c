/* Embedded, an operation runs at once on the store every worker shares; with Redis it goes to
 * this worker's connection and the reply is written when Redis answers. There is no fallback:
 * an operator must see what the rules see, and a change must land where the rules read it. */
#include "method_state.h"

#include "base/clock.h"
#include "base/error.h"
#include "change_log.h"
#include "proto/admin_params.h"
#include "proto/mpbuf.h"
#include "server.h"
#include "state/redis.h"
#include "state/state_op.h"
#include "state_campaign.h"

#include <stdlib.h>

#define TEXT(x)   #x
#define NUMBER(x) TEXT(x)
#define MAX_SEEDS NUMBER(VD_STORE_MAX_SEEDS)

/* A state operation for a request, while Redis answers it. */
typedef struct state_call {
    vd_server_t *server;
    vd_conn_t *conn;
    uint32_t msgid;
    vd_state_method_t method;
    vd_key_kind_t kind;
} state_call_t;

/* The fields of a value, as state operations report it. */
static void pack_fields(msgpack_packer *pk, vd_key_kind_t kind, const int64_t v[VD_WINDOWS]) {
    static const char *const windows[VD_WINDOWS] = {"minute", "hour", "day"};
    if (kind == VD_KEY_COUNTER) {
        for (int w = 0; w < VD_WINDOWS; w++) {
            vd_pack_cstr(pk, windows[w]);
            msgpack_pack_int64(pk, v[w]);
        }
    } else if (kind == VD_KEY_DISTINCT) {
        vd_pack_cstr(pk, "count");
        msgpack_pack_int64(pk, v[0]);
    } else {
        vd_pack_cstr(pk, "ttl"); /* seconds left; nil: not set */
        v[0] < 0 ? msgpack_pack_nil(pk) : msgpack_pack_int64(pk, v[0]);
    }
}

static uint32_t nfields(vd_key_kind_t kind) {
    return kind == VD_KEY_COUNTER ? VD_WINDOWS : 1;
}

/* The result: the entry's kind, key and backend, then its value (state_get) or its old and new
 * values (state_set, state_reset). */
static void pack_result(vd_server_t *s, vd_conn_t *c, const state_call_t *call,
                        const vd_state_op_t *op) {
    msgpack_packer *pk = &c->pk;
    int get = call->method == VD_STATE_GET;
    vd_rpc_pack_result_head(pk, call->msgid);
    msgpack_pack_map(pk, 3 + (get ? nfields(call->kind) : 2));
    vd_pack_cstr(pk, "kind");
    vd_pack_cstr(pk, vd_key_kind_name(call->kind));
    vd_pack_cstr(pk, "key");
    vd_mp_str(&c->out, op->key, op->klen);
    vd_pack_cstr(pk, "backend");
    vd_pack_cstr(pk, s->x->env.state.redis ? "redis" : "embedded");
    if (get) {
        pack_fields(pk, call->kind, op->result);
        return;
    }
    vd_pack_cstr(pk, "old");
    msgpack_pack_map(pk, nfields(call->kind));
    pack_fields(pk, call->kind, op->old);
    vd_pack_cstr(pk, "new");
    msgpack_pack_map(pk, nfields(call->kind));
    pack_fields(pk, call->kind, op->result);
}

/* The operation is done (op->failed: it could not be): the reply, and a change's log line. */
static void answer(const state_call_t *call, const vd_state_op_t *op) {
    vd_server_t *s = call->server;
    vd_conn_t *c = call->conn;
    if (op->failed && call->method == VD_STATE_GET)
        vd_server_error(s, c, call->msgid, VD_RPC_INTERNAL, "cannot read it from Redis: %s",
                        op->why);
    else if (op->failed)
        vd_server_error(s, c, call->msgid, VD_RPC_INTERNAL,
                        "Redis did not confirm the change (%s): read the key with state_get to "
                        "see whether it was made",
                        op->why);
    else
        pack_result(s, c, call, op);
    if (!op->failed && call->method != VD_STATE_GET)
        vd_change_log(&s->stats, &c->peer, call->method, call->kind, op);
}

static void redis_done(vd_state_op_t *op) {
    state_call_t *call = op->owner;
    if (!call->conn->closing) answer(call, op);
    vd_conn_end_op(call->conn);
    free(call);
    free(op);
}

/* Sends req (on the caller's stack) to Redis; the reply is written when it answers. */
static void submit(vd_server_t *s, vd_conn_t *c, const state_call_t *proto,
                   const vd_state_op_t *req) {
    state_call_t *call = malloc(sizeof *call);
    vd_state_op_t *op = call ? vd_state_op_copy(req) : NULL;
    if (!op) {
        free(call);
        vd_server_error(s, c, proto->msgid, VD_RPC_INTERNAL, "out of memory");
        return;
    }
    *call = *proto;
    op->owner = call;
    op->done = redis_done;
    vd_conn_begin_op(c);
    if (vd_redis_submit(s->x->env.state.redis, op) != 0) {
        answer(call, op); /* failed at once: why says so */
        vd_conn_end_op(c);
        free(call);
        free(op);
    }
}

static void run(vd_server_t *s, vd_conn_t *c, vd_inbound_t **in, vd_state_method_t m) {
    static const vd_state_op_kind_t reads[] = {VD_OP_COUNT, VD_OP_DISTINCT, VD_OP_LABELED};
    static const vd_store_kind_t entries[] = {VD_STORE_COUNTER, VD_STORE_DISTINCT, VD_STORE_LABEL};
    const vd_rpc_msg_t *msg = &(*in)->msg;
    vd_state_params_t p;
    const char *bad = vd_state_params_read(msg->params, m, &p);
    if (!bad && m == VD_STATE_SET && p.kind == VD_KEY_DISTINCT && p.value > VD_STORE_MAX_SEEDS)
        bad = "a distinct count's value (its number of values) must be at most " MAX_SEEDS;
    if (bad) {
        vd_server_error(s, c, msg->msgid, VD_RPC_BAD_REQUEST, "%s", bad);
        return;
    }
    if (p.kind == VD_KEY_CAMPAIGN) {
        vd_state_campaign(s, c, msg->msgid, m, &p);
        return;
    }
    state_call_t call = {s, c, msg->msgid, m, p.kind};
    vd_state_op_t req = {.kind = m == VD_STATE_GET ? reads[p.kind] : VD_OP_REPLACE,
                         .key = p.key,
                         .klen = p.key_len,
                         .n = m == VD_STATE_SET ? p.value : 0,
                         .now = vd_clock_now_s(s->x->env.clock),
                         .ttl = p.ttl,
                         .target = entries[p.kind]};
    if (s->x->env.state.redis) {
        submit(s, c, &call, &req);
        return;
    }
    if (vd_state_op_apply(s->x->env.state.store, &req) != 0) {
        vd_server_error(s, c, msg->msgid, VD_RPC_INTERNAL, "out of memory");
        return;
    }
    answer(&call, &req);
}

void vd_method_state_get(vd_server_t *s, vd_conn_t *c, vd_inbound_t **in) {
    run(s, c, in, VD_STATE_GET);
}

void vd_method_state_set(vd_server_t *s, vd_conn_t *c, vd_inbound_t **in) {
    run(s, c, in, VD_STATE_SET);
}

void vd_method_state_reset(vd_server_t *s, vd_conn_t *c, vd_inbound_t **in) {
    run(s, c, in, VD_STATE_RESET);
}
