/* libFuzzer target: the params of state_get, state_set, state_reset, list_check and report,
 * read from a frame decoded as the daemon decodes it (whatever its method, so that every reader
 * sees every shape). What a reader accepts must hold what its caller relies on. */
#include "proto/admin_params.h"
#include "proto/frame.h"
#include "proto/inbound.h"
#include "proto/report_params.h"

#include <stdint.h>
#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_state(const msgpack_object *params, vd_state_method_t m) {
    vd_state_params_t p;
    if (vd_state_params_read(params, m, &p) != NULL) return;
    if (p.kind >= VD_KEY_KINDS || !p.key || p.key_len == 0 || p.key_len > 1024) abort();
    if (p.ttl < 0 || (m != VD_STATE_SET && p.value != 0)) abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    /* As the daemon: only what the framer took as one whole frame is decoded (it never hands
     * over a frame that declares more items than it holds). */
    size_t flen = 0;
    if (vd_frame_scan(data, size, 1 << 20, &flen) != 0 || flen != size) return 0;
    vd_inbound_t *in = vd_inbound_new();
    const char *why = NULL;
    if (!in) return 0;
    if (vd_inbound_read(in, (const char *)data, size, &why) == 0) {
        const msgpack_object *params = in->msg.params;
        check_state(params, VD_STATE_GET);
        check_state(params, VD_STATE_SET);
        check_state(params, VD_STATE_RESET);
        vd_report_params_t rp;
        if (!vd_report_params_read(params, &rp) &&
            (!rp.pipeline || !rp.pipeline_len || !rp.decision_id == !rp.event ||
             !(rp.weight > 0 && rp.weight <= VD_REPORT_MAX_WEIGHT) ||
             rp.reporter_len > VD_REPORT_MAX_REPORTER || (rp.reporter && !rp.reporter_len)))
            abort();
        vd_list_check_params_t lp;
        if (!vd_list_check_params_read(params, &lp) &&
            (!lp.path || lp.path_len == 0 || !lp.value || lp.kind < -1 || lp.kind > 2))
            abort();
    }
    vd_inbound_free(in);
    return 0;
}
