#include "method_stats.h"

#include "base/error.h"
#include "server.h"

#include <string.h>

void vd_method_stats(vd_server_t *s, vd_conn_t *c, vd_inbound_t **in) {
    uint32_t msgid = (*in)->msg.msgid;
    vd_stats_snapshot_t snap;
    memset(&snap, 0, sizeof snap);
    if (s->hooks.snapshot(s->hooks.ud, &snap) != 0) {
        vd_server_error(s, c, msgid, VD_RPC_INTERNAL, "out of memory");
    } else {
        vd_rpc_pack_result_head(&c->pk, msgid);
        vd_snapshot_pack(&c->pk, &snap, s->x->policy);
    }
    vd_snapshot_free(&snap);
}
