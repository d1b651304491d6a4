/* libFuzzer target: the frame scanner (whole, and resumed as bytes arrive), the decode-once
 * holder (msgpack-RPC envelope) and the decide params, on arbitrary bytes. */
#include "base/error.h"
#include "proto/decide_params.h"
#include "proto/frame.h"
#include "proto/inbound.h"
#include "proto/rpc.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* A scan resumed a byte at a time ends as the scan of the whole, at the same length. */
static void check_resumed(const uint8_t *data, size_t size, int whole_rc, size_t whole_len) {
    vd_frame_scan_t s = {0, 0};
    size_t flen = 0;
    int rc = VD_EAGAIN;
    for (size_t n = 0; rc == VD_EAGAIN && n <= size; n++)
        rc = vd_frame_scan_more(&s, data, n, 4096, &flen);
    if (rc != whole_rc || (rc == 0 && flen != whole_len)) abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    uint32_t msgid;
    (void)vd_frame_peek_msgid(data, size, &msgid);
    vd_inbound_t *in = vd_inbound_new();
    if (!in) return 0;
    size_t off = 0;
    while (off < size) {
        size_t flen = 0;
        int rc = vd_frame_scan(data + off, size - off, 4096, &flen);
        check_resumed(data + off, size - off, rc, flen);
        if (rc != 0) break;
        if (flen == 0 || flen > size - off) abort(); /* the scanner must stay inside the input */
        const char *why = NULL;
        rc = vd_inbound_read(in, (const char *)data + off, flen, &why);
        if (rc != 0 && !why) abort(); /* every refusal says why */
        if (rc == 0 && in->msg.kind == VD_RPC_REQUEST && in->msg.method_len == 6 &&
            memcmp(in->msg.method, "decide", 6) == 0) {
            vd_decide_params_t p;
            if (!vd_decide_params_read(in->msg.params, &p) && p.event->type != MSGPACK_OBJECT_MAP)
                abort(); /* accepted params carry a map */
        }
        vd_inbound_clear(in);
        off += flen;
    }
    vd_inbound_free(in);
    return 0;
}
