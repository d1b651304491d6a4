/* The engine's listening sockets: the ordinary one and, with --admin-socket, the admin one.
 * The main thread accepts on both and hands each connection to a worker in turn, marked with
 * the socket it came through; the same workers and limits serve both. */
#ifndef VD_ACCEPTOR_H
#define VD_ACCEPTOR_H

#include "base/log.h"

#include <stdatomic.h>
#include <uv.h>

struct vd_engine;

#define VD_LISTENERS 2 /* the ordinary socket, the admin socket */

/* One listening socket. */
typedef struct vd_listen {
    struct vd_engine *engine;
    const char *path;
    int fd;    /* -1: not open */
    int admin; /* its connections may call administrative methods */
    uv_poll_t poll;
} vd_listen_t;

typedef struct vd_acceptor {
    vd_listen_t listen[VD_LISTENERS];
    int n;       /* sockets bound */
    int started; /* the main loop polls them */
    int next_worker;
    uv_timer_t pause;              /* accepting resumes when it fires (out of descriptors) */
    atomic_uint_fast64_t pauses;   /* times accepting paused */
    atomic_uint_fast64_t accepted; /* connections accepted, handed to workers */
    vd_log_limit_t pause_log;      /* the pauses' log lines (main thread) */
} vd_acceptor_t;

/* Binds the engine's sockets with their file modes (the admin one only when configured).
 * Returns 0, or a negative VD_E* code with err filled; what was bound before is undone. */
int vd_acceptor_open(struct vd_engine *e, char *err, size_t errlen);

/* Starts accepting on the engine's main loop. */
void vd_acceptor_start(struct vd_engine *e);

/* Stops accepting, closes the sockets and removes their files. Idempotent. */
void vd_acceptor_stop(struct vd_engine *e);

#endif
