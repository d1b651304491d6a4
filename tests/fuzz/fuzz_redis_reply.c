/* libFuzzer target: what verdictd reads from Redis for campaigns (engine/state/redis_campaign.h).
 * The bytes are a RESP stream, parsed by hiredis's reader as the connection parses it; every
 * reply is read as the answer to a lookup, a report and a decision's refs. A reply of the
 * wrong shape is refused (-1, the fallback answers), never read past its end; a campaign read
 * has counts a view can hold. */
#include "base/error.h"
#include "state/campaign_op.h"
#include "state/redis_campaign.h"

#include <hiredis/hiredis.h>
#include <stdint.h>
#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void read_as(const redisReply *rep, vd_ask_t what) {
    vd_campaign_ask_t ask = {.what = what, .kind = VD_CAMPAIGN_TEXT};
    vd_campaign_opts_t none = {0};
    vd_state_op_t *op =
        vd_campaign_op_new(&ask, what == VD_CAMPAIGN_ASK_REPORT ? NULL : &none, "01ID", 4);
    if (!op) return;
    op->now = 1796000000;
    if (vd_redis_campaign_read(op, rep) == 0) {
        const vd_campaign_ask_t *a = vd_campaign_op_ask(op);
        if (a->rc != 0 && a->rc != VD_ENOTFOUND) abort();
        if (a->rc == 0 && what == VD_CAMPAIGN_ASK_REFS && (a->refs.n < 0 || a->refs.n > 8)) abort();
        if (a->rc == 0 && what != VD_CAMPAIGN_ASK_REFS &&
            (a->view.agree < 0 || a->view.agree > VD_SKETCH_HASHES || a->view.bad < 0))
            abort();
    }
    free(op);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    redisReader *r = redisReaderCreate();
    if (!r) return 0;
    redisReaderFeed(r, (const char *)data, size);
    void *reply = NULL;
    while (redisReaderGetReply(r, &reply) == REDIS_OK && reply) {
        read_as(reply, VD_CAMPAIGN_ASK_TEXT);
        read_as(reply, VD_CAMPAIGN_ASK_REPORT);
        read_as(reply, VD_CAMPAIGN_ASK_REFS);
        freeReplyObject(reply);
        reply = NULL;
    }
    redisReaderFree(r);
    return 0;
}
