#include "reply_reader.h"

#include "base/error.h"

#include <stdlib.h>
#include <string.h>

void vd__reply_reader_init(vd__reply_reader_t *r) {
    memset(r, 0, sizeof *r);
    msgpack_unpacked_init(&r->msg);
}

void vd__reply_reader_close(vd__reply_reader_t *r) {
    msgpack_unpacked_destroy(&r->msg);
    free(r->buf);
}

char *vd__reply_reader_room(vd__reply_reader_t *r, size_t min, size_t *room) {
    if (r->start > 0) { /* the replies handed out are gone: their bytes make room */
        memmove(r->buf, r->buf + r->start, r->end - r->start);
        r->end -= r->start;
        r->start = 0;
    }
    if (r->cap - r->end < min) {
        size_t cap = r->cap ? r->cap : min;
        while (cap - r->end < min)
            cap *= 2;
        char *b = realloc(r->buf, cap);
        if (!b) return NULL;
        r->buf = b;
        r->cap = cap;
    }
    *room = r->cap - r->end;
    return r->buf + r->end;
}

void vd__reply_reader_wrote(vd__reply_reader_t *r, size_t n) {
    r->end += n;
}

/* A response is [1, msgid, error, result], msgid 32 bits; error nil is success. */
static int take_reply(const msgpack_object *o, vd_client_reply_t *reply, const char **why) {
    if (o->type != MSGPACK_OBJECT_ARRAY || o->via.array.size != 4 ||
        o->via.array.ptr[0].type != MSGPACK_OBJECT_POSITIVE_INTEGER ||
        o->via.array.ptr[0].via.u64 != 1 ||
        o->via.array.ptr[1].type != MSGPACK_OBJECT_POSITIVE_INTEGER ||
        o->via.array.ptr[1].via.u64 > UINT32_MAX) {
        *why = "the server sent something that is not a msgpack-RPC response";
        return -1;
    }
    reply->msgid = (uint32_t)o->via.array.ptr[1].via.u64;
    reply->error = o->via.array.ptr[2].type == MSGPACK_OBJECT_NIL ? NULL : &o->via.array.ptr[2];
    reply->result = &o->via.array.ptr[3];
    return 0;
}

int vd__reply_reader_next(vd__reply_reader_t *r, vd_client_reply_t *reply, const char **why) {
    r->start += r->last;
    r->last = 0;
    if (r->start == r->end) return 1; /* nothing yet (and perhaps no buffer either) */
    size_t len;
    int rc = vd_frame_scan_more(&r->scan, (const uint8_t *)r->buf + r->start, r->end - r->start,
                                VD_CLIENT_MAX_REPLY, &len);
    if (rc == VD_EAGAIN) return 1;
    if (rc == VD_ETOOLARGE) {
        *why = "the server sent a reply larger than the client reads (VD_CLIENT_MAX_REPLY)";
        return -1;
    }
    /* The frame is whole: msgpack-c allocates for the elements it has, not for counts. */
    if (rc != 0 ||
        msgpack_unpack_next(&r->msg, r->buf + r->start, len, NULL) != MSGPACK_UNPACK_SUCCESS) {
        *why = "malformed reply from the server (not msgpack, or nested deeper than 32 levels)";
        return -1;
    }
    r->last = len;
    return take_reply(&r->msg.data, reply, why);
}
