#include "inbound.h"

#include "base/error.h"
#include "frame.h"

#include <stdlib.h>
#include <string.h>

#define ZONE_CHUNK 2048

vd_inbound_t *vd_inbound_new(void) {
    vd_inbound_t *in = calloc(1, sizeof *in);
    if (!in) return NULL;
    if (!msgpack_zone_init(&in->zone, ZONE_CHUNK)) {
        free(in);
        return NULL;
    }
    return in;
}

int vd_inbound_read(vd_inbound_t *in, const char *data, size_t len, const char **why) {
    memset(&in->msg, 0, sizeof in->msg);
    if (len > in->cap) {
        size_t cap = in->cap ? in->cap : 512;
        while (cap < len)
            cap *= 2;
        char *b = realloc(in->bytes, cap);
        if (!b) return VD_ENOMEM;
        in->bytes = b;
        in->cap = cap;
    }
    memcpy(in->bytes, data, len);
    in->len = len;
    msgpack_object root;
    size_t off = 0;
    if (msgpack_unpack(in->bytes, len, &off, &in->zone, &root) != MSGPACK_UNPACK_SUCCESS) {
        uint32_t msgid;
        if (vd_frame_peek_msgid((const uint8_t *)in->bytes, len, &msgid) == 0) {
            in->msg.has_msgid = 1;
            in->msg.msgid = msgid;
        }
        *why = "malformed msgpack (or nested deeper than 32 levels)";
        return VD_EPROTO;
    }
    return vd_rpc_decode(&root, &in->msg, why);
}

void vd_inbound_clear(vd_inbound_t *in) {
    msgpack_zone_clear(&in->zone);
    memset(&in->msg, 0, sizeof in->msg);
    in->len = 0;
}

void vd_inbound_free(vd_inbound_t *in) {
    if (!in) return;
    msgpack_zone_destroy(&in->zone);
    free(in->bytes);
    free(in);
}
