/* A worker thread: its own event loop, its own Lua state (inside its policy copy), its own
 * stats. Connections are handed to it once and stay on it. */
#ifndef VD_WORKER_H
#define VD_WORKER_H

#include "../policy/policy.h"
#include "arena.h"
#include "stats.h"

#include <msgpack.h>
#include <pthread.h>
#include <stdatomic.h>
#include <uv.h>

struct vd_engine;
struct vd_conn;
struct vd_plugin_call;

typedef struct vd_worker {
    struct vd_engine *engine;
    int id;
    uv_thread_t thread;
    uv_loop_t loop;
    uv_async_t wake; /* new connections, a pending policy, or drain */
    uv_timer_t drain_timer;
    pthread_mutex_t lock; /* guards the hand-over queue of new connections only */
    int *new_fds;
    size_t nnew, capnew;
    vd_policy_t *_Atomic pending; /* set by a reload, taken by the worker */
    vd_policy_t *policy;          /* serving copy; owner thread only */
    vd_stats_t stats;
    vd_arena_t arena;      /* per request, reset after each reply */
    msgpack_zone zone;     /* decoded request objects, cleared after each request */
    struct vd_conn *conns; /* open connections, for draining */
    int nconns;
    int draining;
    int draining_hard; /* the drain timeout passed: pending plugin calls time out now */
    /* Asynchronous plugin calls. */
    pthread_mutex_t done_lock;                /* guards done_head and done_closed */
    struct vd_plugin_call *done_head;         /* completed by plugins, not yet applied */
    int done_closed;                          /* the loop is gone: completions are not signalled */
    struct vd_plugin_call *dl_head, *dl_tail; /* pending calls, earliest deadline first */
    uv_timer_t call_timer;
    int nrequests;          /* decide requests waiting for plugins or state */
    struct vd_redis *redis; /* this worker's connection when state lives in Redis, else NULL */
    atomic_int finished;    /* the loop has ended */
} vd_worker_t;

/* Prepares a worker around its first policy (the worker takes the reference). */
int vd_worker_init(vd_worker_t *w, struct vd_engine *e, int id, vd_policy_t *policy);

int vd_worker_start(vd_worker_t *w);

/* Hands a connected socket to the worker (any thread). */
void vd_worker_add_fd(vd_worker_t *w, int fd);

/* Offers a new policy copy (any thread); an older offer not yet taken is dropped. */
void vd_worker_offer_policy(vd_worker_t *w, vd_policy_t *p);

/* Asks the worker to drain and stop (any thread). */
void vd_worker_drain(vd_worker_t *w);

void vd_worker_join(vd_worker_t *w);
void vd_worker_close(vd_worker_t *w);

/* Switches to an offered policy, if any; called by the worker between requests. */
void vd_worker_adopt_pending(vd_worker_t *w);

/* Called by a connection when it has closed, to keep the drain bookkeeping. */
void vd_worker_conn_closed(vd_worker_t *w, struct vd_conn *c);

#endif
