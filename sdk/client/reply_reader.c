#include "reply_reader.h"

#define BUFFER_INIT ((size_t)64 * 1024)

int vd__reply_reader_init(vd__reply_reader_t *r) {
    if (!msgpack_unpacker_init(&r->unp, BUFFER_INIT)) return -1;
    msgpack_unpacked_init(&r->msg);
    return 0;
}

void vd__reply_reader_close(vd__reply_reader_t *r) {
    msgpack_unpacked_destroy(&r->msg);
    msgpack_unpacker_destroy(&r->unp);
}

char *vd__reply_reader_room(vd__reply_reader_t *r, size_t min, size_t *room) {
    if (!msgpack_unpacker_reserve_buffer(&r->unp, min)) return NULL;
    *room = msgpack_unpacker_buffer_capacity(&r->unp);
    return msgpack_unpacker_buffer(&r->unp);
}

void vd__reply_reader_wrote(vd__reply_reader_t *r, size_t n) {
    msgpack_unpacker_buffer_consumed(&r->unp, n);
}

/* A response is [1, msgid, error, result]; error nil is success. */
static int take_reply(const msgpack_object *o, vd_client_reply_t *reply, const char **why) {
    if (o->type != MSGPACK_OBJECT_ARRAY || o->via.array.size != 4 ||
        o->via.array.ptr[0].type != MSGPACK_OBJECT_POSITIVE_INTEGER ||
        o->via.array.ptr[0].via.u64 != 1 ||
        o->via.array.ptr[1].type != MSGPACK_OBJECT_POSITIVE_INTEGER) {
        *why = "the server sent something that is not a msgpack-RPC response";
        return -1;
    }
    reply->msgid = (uint32_t)o->via.array.ptr[1].via.u64;
    reply->error = o->via.array.ptr[2].type == MSGPACK_OBJECT_NIL ? NULL : &o->via.array.ptr[2];
    reply->result = &o->via.array.ptr[3];
    return 0;
}

int vd__reply_reader_next(vd__reply_reader_t *r, vd_client_reply_t *reply, const char **why) {
    msgpack_unpack_return ur = msgpack_unpacker_next(&r->unp, &r->msg);
    if (ur == MSGPACK_UNPACK_SUCCESS) return take_reply(&r->msg.data, reply, why);
    if (ur == MSGPACK_UNPACK_CONTINUE) return 1;
    *why = "malformed reply from the server";
    return -1;
}
