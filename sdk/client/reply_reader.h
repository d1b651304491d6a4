/* The replies in the byte stream verdictd sends, apart from the socket they come from, so that
 * the client library's decoding can also be fed from memory (tests/fuzz/fuzz_client_reply.c).
 * Internal to the client library. */
#ifndef VD_CLIENT_REPLY_READER_H
#define VD_CLIENT_REPLY_READER_H

#include "verdict/client.h"

#include <msgpack.h>
#include <stddef.h>

typedef struct vd__reply_reader {
    msgpack_unpacker unp;
    msgpack_unpacked msg; /* the last reply decoded */
} vd__reply_reader_t;

/* Returns 0, or -1 when out of memory. */
int vd__reply_reader_init(vd__reply_reader_t *r);

void vd__reply_reader_close(vd__reply_reader_t *r);

/* Where to write at least min more bytes (*room says how many fit). NULL when out of memory.
 * The last reply stays valid until vd__reply_reader_next is called again. */
char *vd__reply_reader_room(vd__reply_reader_t *r, size_t min, size_t *room);

/* Counts n bytes written where vd__reply_reader_room said. */
void vd__reply_reader_wrote(vd__reply_reader_t *r, size_t n);

/* The next whole reply, borrowed from the reader until its next call. Returns 0 with *reply
 * set; 1 when more bytes are needed; -1 when the bytes are not a msgpack-RPC response (*why
 * then says so, and the stream cannot be followed further). */
int vd__reply_reader_next(vd__reply_reader_t *r, vd_client_reply_t *reply, const char **why);

#endif
