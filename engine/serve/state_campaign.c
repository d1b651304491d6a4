#include "state_campaign.h"

#include "base/clock.h"
#include "base/error.h"
#include "base/hex.h"
#include "change_log.h"
#include "proto/mpbuf.h"
#include "server.h"
#include "state/campaign_op.h"
#include "state/redis.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A campaign request, while Redis answers it. */
typedef struct campaign_call {
    vd_server_t *server;
    vd_conn_t *conn;
    uint32_t msgid;
    vd_state_method_t method;
} campaign_call_t;

int vd_state_campaign_key(const char *key, size_t len, vd_campaign_kind_t *kind, uint64_t *id) {
    for (int k = 0; k < VD_CAMPAIGN_KINDS; k++) {
        size_t kl = strlen(vd_campaign_kind_names[k]);
        if (len != kl + 17 || memcmp(key, vd_campaign_kind_names[k], kl) != 0 || key[kl] != ':')
            continue;
        uint64_t v = 0;
        for (size_t i = kl + 1; i < len; i++) {
            int d = vd_hex_digit(key[i]);
            if (d < 0) return -1;
            v = v << 4 | (uint64_t)d;
        }
        *kind = (vd_campaign_kind_t)k;
        *id = v;
        return 0;
    }
    return -1;
}

static void pack_view(msgpack_packer *pk, const vd_campaign_view_t *v) {
    msgpack_pack_map(pk, 9);
    vd_pack_u64(pk, "size", v->size);
    vd_pack_u64(pk, "recent", v->recent);
    vd_pack_u64(pk, "growth_1h", v->growth_1h);
    vd_pack_u64(pk, "sources", v->sources);
    vd_pack_cstr(pk, "first_seen");
    msgpack_pack_int64(pk, v->first_seen);
    vd_pack_cstr(pk, "last_seen");
    msgpack_pack_int64(pk, v->last_seen);
    vd_pack_cstr(pk, "bad");
    msgpack_pack_double(pk, v->bad);
    vd_pack_cstr(pk, "good");
    msgpack_pack_double(pk, v->good);
    vd_pack_u64(pk, "reporters", v->reporters);
}

/* The answer: {kind, key, backend, found, and the campaign (get) or it as it was (reset)};
 * a reset is logged and counted. */
static void answer(const campaign_call_t *call, vd_state_op_t *op) {
    vd_server_t *s = call->server;
    vd_conn_t *c = call->conn;
    const vd_campaign_ask_t *a = vd_campaign_op_ask(op);
    if (op->failed) {
        vd_server_error(s, c, call->msgid, VD_RPC_INTERNAL, "Redis did not answer (%s)%s", op->why,
                        call->method == VD_STATE_RESET
                            ? ": read the campaign with state_get to see whether it is gone"
                            : "");
        return;
    }
    int found = a->rc == 0;
    msgpack_packer *pk = &c->pk;
    vd_rpc_pack_result_head(pk, call->msgid);
    msgpack_pack_map(pk, 4 + found);
    vd_pack_cstr(pk, "kind");
    vd_pack_cstr(pk, "campaign");
    vd_pack_cstr(pk, "key");
    vd_mp_str(&c->out, op->key, op->klen);
    vd_pack_cstr(pk, "backend");
    vd_pack_cstr(pk, s->x->env.state.redis ? "redis" : "embedded");
    vd_pack_cstr(pk, "found");
    found ? msgpack_pack_true(pk) : msgpack_pack_false(pk);
    if (found) {
        vd_pack_cstr(pk, call->method == VD_STATE_GET ? "campaign" : "old");
        pack_view(pk, &a->view);
    }
    if (call->method != VD_STATE_RESET || !found) return;
    char what[200];
    snprintf(what, sizeof what, "removed: %llu items, bad %g good %g, %llu reporters",
             (unsigned long long)a->view.size, a->view.bad, a->view.good,
             (unsigned long long)a->view.reporters);
    vd_change_log_text(&s->stats, &c->peer, call->method, VD_KEY_CAMPAIGN, op->key, op->klen, what);
}

static void redis_done(vd_state_op_t *op) {
    campaign_call_t *call = op->owner;
    if (!call->conn->closing) answer(call, op);
    vd_conn_end_op(call->conn);
    free(call);
    free(op);
}

void vd_state_campaign(vd_server_t *s, vd_conn_t *c, uint32_t msgid, vd_state_method_t m,
                       const vd_state_params_t *p) {
    vd_campaign_ask_t ask = {.what =
                                 m == VD_STATE_RESET ? VD_CAMPAIGN_ASK_DROP : VD_CAMPAIGN_ASK_GET};
    if (vd_state_campaign_key(p->key, p->key_len, &ask.kind, &ask.key) != 0) {
        vd_server_error(s, c, msgid, VD_RPC_BAD_REQUEST,
                        "a campaign's key is its kind and id, as rules, explain and the "
                        "decision log show them: text:<16 hex digits> or fields:<16 hex digits>");
        return;
    }
    /* The key travels as the operation's key bytes (its reporter slot): for the reply. */
    vd_state_op_t *op = vd_campaign_op_new(&ask, NULL, p->key, p->key_len);
    campaign_call_t *call = op ? malloc(sizeof *call) : NULL;
    if (!call) {
        free(op);
        vd_server_error(s, c, msgid, VD_RPC_INTERNAL, "out of memory");
        return;
    }
    *call = (campaign_call_t){s, c, msgid, m};
    op->now = vd_clock_now_s(s->x->env.clock);
    if (!s->x->env.state.redis) { /* embedded: at once */
        vd_campaign_op_run_local(s->x->env.state.campaigns, op);
        answer(call, op);
        free(call);
        free(op);
        return;
    }
    op->owner = call;
    op->done = redis_done;
    vd_conn_begin_op(c);
    if (vd_redis_submit(s->x->env.state.redis, op) != 0) redis_done(op); /* failed at once */
}
