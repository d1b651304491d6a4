/* One client connection: framing, backpressure and ordered writes of replies. It knows frames,
 * not methods: each complete frame goes to the handler its environment names. */
#ifndef VD_CONN_H
#define VD_CONN_H

#include "base/stats.h"
#include "proto/frame.h"

#include <msgpack.h>
#include <stddef.h>
#include <sys/types.h>
#include <uv.h>

struct vd_conn;

typedef struct vd_net_stats {
    vd_counter_t conns_total, conns_open, bytes_in, bytes_out;
    vd_counter_t idle_closed, slow_closed; /* closed by the idle / slow-request timeouts */
    vd_counter_t read_pauses; /* reading stopped: the client's unsent replies reached the mark */
} vd_net_stats_t;

/* What the connections of one loop share: limits, figures, handlers, and the list of those
 * open. The owner (a worker) fills it before the first vd_conn_open; it outlives them. */
typedef struct vd_conn_env {
    uv_loop_t *loop;
    size_t max_request;      /* bytes per frame; a larger one closes the connection */
    size_t write_high_water; /* unsent reply bytes before a connection stops being read */
    int idle_timeout_ms;     /* a connection with nothing to do for this long is closed; 0: never */
    int request_timeout_ms;  /* a frame begun must be complete within this; 0: no limit */
    int draining;            /* set by the owner: connections close once idle */
    vd_net_stats_t *stats;
    vd_counter_t *errors; /* per vd_rpc_err_t: frames refused before a handler saw them */
    /* A complete frame data[0..len) arrived on c; its replies are packed into c->pk. data is
     * borrowed for the call. */
    void (*on_frame)(void *ud, struct vd_conn *c, const char *data, size_t len);
    /* Before a batch of frames is handled: the moment to switch to a new policy. */
    void (*on_batch)(void *ud);
    /* c has closed (its memory goes when the last hold on it is released). */
    void (*on_closed)(void *ud, struct vd_conn *c);
    void *ud;
    struct vd_conn *conns; /* open connections */
    int nconns;
} vd_conn_env_t;

/* Who is at the other end: whether the connection came through the admin socket, and then the
 * process that connected (SO_PEERCRED, read when it was adopted). */
typedef struct vd_peer {
    int admin; /* administrative methods are allowed */
    int known; /* uid, gid and pid are set */
    uid_t uid;
    gid_t gid;
    pid_t pid;
} vd_peer_t;

typedef struct vd_conn {
    uv_pipe_t pipe;
    vd_peer_t peer;
    uv_timer_t linger; /* the lingering close after a fatal error; else the idle, unread-replies
                          and slow-request timeouts (timer_kind says which) */
    int timer_kind;    /* what linger is armed for: 0 none, 1 idle, 2 a frame begun, 3 replies
                          unread */
    size_t queued;     /* reply bytes libuv had yet to write when linger was armed */
    vd_conn_env_t *env;
    char *buf; /* bytes read and not yet consumed */
    size_t len, cap;
    vd_frame_scan_t scan;  /* how far the frame at buf's start was scanned */
    msgpack_sbuffer out;   /* replies not yet handed to uv_write */
    msgpack_packer pk;     /* packs into out */
    size_t unsent;         /* bytes handed to uv_write and not yet written */
    int reading;           /* uv_read_start is active */
    int closing;           /* uv_close was called */
    int close_after_flush; /* a fatal protocol error: close once the error reply is written */
    int lingering;         /* write side shut down; input is read and discarded until EOF */
    int in_process;        /* inside the read loop: replies are flushed once at its end */
    int ops;               /* requests and reloads still working for this connection */
    int refs;              /* the handle itself plus asynchronous operations in flight */
    struct vd_conn *prev, *next;
} vd_conn_t;

/* Adopts a connected socket on env's loop and starts reading. admin: it was accepted on the
 * admin socket (its peer's credentials are read now). */
int vd_conn_open(vd_conn_env_t *env, int fd, int admin);

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
