/* libFuzzer target: the frame scanner and the msgpack-RPC decoder on arbitrary bytes. */
#include "base/error.h"
#include "proto/frame.h"
#include "proto/rpc.h"

#include <stdint.h>
#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    uint32_t msgid;
    (void)vd_frame_peek_msgid(data, size, &msgid);
    size_t off = 0;
    while (off < size) {
        size_t flen = 0;
        int rc = vd_frame_scan(data + off, size - off, 4096, &flen);
        if (rc != 0) break;
        if (flen == 0 || flen > size - off) abort(); /* the scanner must stay inside the input */
        msgpack_zone zone;
        msgpack_zone_init(&zone, 1024);
        msgpack_object root;
        size_t used = 0;
        if (msgpack_unpack((const char *)data + off, flen, &used, &zone, &root) ==
            MSGPACK_UNPACK_SUCCESS) {
            if (used != flen) abort(); /* scanner and decoder agree on the frame's end */
            vd_rpc_msg_t m;
            const char *why;
            (void)vd_rpc_decode(&root, &m, &why);
        }
        msgpack_zone_destroy(&zone);
        off += flen;
    }
    return 0;
}
