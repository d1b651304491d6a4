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

/* msgpack bin is taken as str everywhere (DESIGN: many clients send strings as bin): turned
 * into str once here, in the decoded tree, so that nothing further has to know. The two have
 * the same layout; the unpacker's nesting limit bounds the recursion. The same walk adds up
 * the zone memory the containers' elements took (strings point into the frame's copy), which
 * is what a waiting decision holds besides the copy. */
static size_t normalise(msgpack_object *o);

/* The elements of a container: scalars are looked at here, without a call each. */
static size_t normalise_all(msgpack_object *o, uint32_t n) {
    size_t bytes = 0;
    for (uint32_t i = 0; i < n; i++) {
        if (o[i].type == MSGPACK_OBJECT_BIN)
            o[i].type = MSGPACK_OBJECT_STR;
        else if (o[i].type == MSGPACK_OBJECT_ARRAY || o[i].type == MSGPACK_OBJECT_MAP)
            bytes += normalise(&o[i]);
    }
    return bytes;
}

static size_t normalise(msgpack_object *o) {
    size_t bytes = 0;
    if (o->type == MSGPACK_OBJECT_BIN) {
        o->type = MSGPACK_OBJECT_STR;
    } else if (o->type == MSGPACK_OBJECT_ARRAY) {
        bytes = o->via.array.size * sizeof(msgpack_object);
        bytes += normalise_all(o->via.array.ptr, o->via.array.size);
    } else if (o->type == MSGPACK_OBJECT_MAP) {
        bytes = o->via.map.size * sizeof(msgpack_object_kv);
        for (uint32_t i = 0; i < o->via.map.size; i++) {
            msgpack_object_kv *kv = &o->via.map.ptr[i];
            if (kv->key.type == MSGPACK_OBJECT_BIN) kv->key.type = MSGPACK_OBJECT_STR;
            bytes += normalise_all(&kv->val, 1);
        }
    }
    return bytes;
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
    in->footprint = in->cap + ZONE_CHUNK + normalise(&root);
    return vd_rpc_decode(&root, &in->msg, why);
}

void vd_inbound_clear(vd_inbound_t *in) {
    msgpack_zone_clear(&in->zone);
    memset(&in->msg, 0, sizeof in->msg);
    in->len = 0;
    in->footprint = 0;
}

void vd_inbound_free(vd_inbound_t *in) {
    if (!in) return;
    msgpack_zone_destroy(&in->zone);
    free(in->bytes);
    free(in);
}
