/* The replies in the byte stream verdictd sends, apart from the socket they come from, so that
 * the client library's decoding can also be fed from memory (tests/fuzz/fuzz_client_reply.c).
 * A reply is decoded only once its whole frame has arrived, and no frame longer than
 * VD_CLIENT_MAX_REPLY is kept: what a reply may allocate is bounded by the bytes it really
 * has, never by the lengths it declares. Internal to the client library. */
#ifndef VD_CLIENT_REPLY_READER_H
#define VD_CLIENT_REPLY_READER_H

#include "proto/frame.h"
#include "verdict/client.h"

#include <msgpack.h>
#include <stddef.h>

typedef struct vd__reply_reader {
    char *buf;
    size_t start, end, cap; /* the bytes not yet handed out are buf[start..end) */
    size_t last;            /* bytes of the reply handed out last, dropped by the next call */
    vd_frame_scan_t scan;   /* how far the frame at start has been scanned */
    msgpack_unpacked msg;   /* the last reply decoded; its strings point into buf */
} vd__reply_reader_t;

/* An empty reader; its buffer is allocated when bytes come. */
void vd__reply_reader_init(vd__reply_reader_t *r);

void vd__reply_reader_close(vd__reply_reader_t *r);

/* Where to write at least min more bytes (*room says how many fit); NULL when out of memory.
 * Call it only after vd__reply_reader_next asked for more bytes: it may move the buffer. */
char *vd__reply_reader_room(vd__reply_reader_t *r, size_t min, size_t *room);

/* Counts n bytes written where vd__reply_reader_room said. */
void vd__reply_reader_wrote(vd__reply_reader_t *r, size_t n);

/* The next whole reply, borrowed from the reader until its next call. Returns 0 with *reply
 * set; 1 when more bytes are needed; -1 when the bytes are not a msgpack-RPC response or the
 * reply is larger than VD_CLIENT_MAX_REPLY (*why then says so, and the stream cannot be
 * followed further). */
int vd__reply_reader_next(vd__reply_reader_t *r, vd_client_reply_t *reply, const char **why);

#endif
