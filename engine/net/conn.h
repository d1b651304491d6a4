/* One client connection: framing, backpressure and ordered writes of replies. */
#ifndef VD_CONN_H
#define VD_CONN_H

#include <msgpack.h>
#include <stddef.h>
#include <uv.h>

struct vd_worker;

typedef struct vd_conn {
    uv_pipe_t pipe;
    uv_timer_t linger; /* bounds the lingering close after a fatal protocol error */
    struct vd_worker *w;
    char *buf; /* bytes read and not yet consumed */
    size_t len, cap;
    msgpack_sbuffer out;   /* replies not yet handed to uv_write */
    msgpack_packer pk;     /* packs into out */
    size_t unsent;         /* bytes handed to uv_write and not yet written */
    int reading;           /* uv_read_start is active */
    int closing;           /* uv_close was called */
    int close_after_flush; /* a fatal protocol error: close once the error reply is written */
    int lingering;         /* write side shut down; input is read and discarded until EOF */
    const char *frame;     /* the frame being dispatched, for requests that copy it */
    size_t frame_len;
    int in_process; /* inside the read loop: replies are flushed once at its end */
    int ops;        /* requests and reloads still working for this connection */
    int refs;       /* the handle itself plus asynchronous operations in flight */
    struct vd_conn *prev, *next;
} vd_conn_t;

/* Adopts a connected socket on the worker's loop and starts reading. */
int vd_conn_open(struct vd_worker *w, int fd);

/* Hands the packed replies to the socket. */
void vd_conn_flush(vd_conn_t *c);

/* Closes the connection (idempotent). */
void vd_conn_close(vd_conn_t *c);

/* Holds and releases the connection memory (across a write, a timer). */
void vd_conn_hold(vd_conn_t *c);
void vd_conn_release(vd_conn_t *c);

/* Holds the connection for an operation that will answer later (a decide waiting for
 * plugins, a reload): a drain does not close it meanwhile. */
void vd_conn_begin_op(vd_conn_t *c);
/* Ends it: flushes what the operation packed, and lets a drain close the connection. */
void vd_conn_end_op(vd_conn_t *c);

/* True when nothing is buffered, unsent or in flight, and nothing waits in the socket: the
 * connection can be closed by a drain without losing a request. */
int vd_conn_idle(const vd_conn_t *c);

#endif
