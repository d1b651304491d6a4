/* A worker thread: its own event loop, its own executor (its copy of the policy and its Lua
 * state), its own serving layer and connections, its own figures. Connections are handed to it
 * once and stay on it. */
#ifndef VD_WORKER_H
#define VD_WORKER_H

#include "exec/executor.h"
#include "net/conn.h"
#include "policy/policy.h"
#include "serve/server.h"

#include <pthread.h>
#include <stdatomic.h>
#include <uv.h>

struct vd_engine;

/* A connection accepted by the main thread, on its way to a worker. */
typedef struct vd_handover {
    int fd;
    int admin; /* accepted on the admin socket */
} vd_handover_t;

typedef struct vd_worker {
    struct vd_engine *engine;
    int id;
    uv_thread_t thread;
    uv_loop_t loop;
    uv_async_t wake; /* new connections, completed plugin calls, a new policy, or drain */
    uv_timer_t drain_timer;
    uv_timer_t call_timer; /* the earliest deadline of a pending plugin call */
    pthread_mutex_t lock;  /* guards the hand-over queue of new connections only */
    vd_handover_t *new_fds;
    size_t nnew, capnew;
    vd_executor_t exec;
    vd_server_t server;
    vd_conn_env_t conns;
    vd_net_stats_t net;
    int draining;
    int draining_hard;      /* the drain timeout passed: pending plugin calls time out now */
    struct vd_redis *redis; /* this worker's connection when state lives in Redis, else NULL */
    atomic_int finished;    /* the loop has ended */
} vd_worker_t;

/* Prepares a worker around its first policy (the worker takes the reference). */
int vd_worker_init(vd_worker_t *w, struct vd_engine *e, int id, vd_policy_t *policy);

int vd_worker_start(vd_worker_t *w);

/* Hands a connected socket to the worker (any thread); admin: it came through the admin
 * socket. */
void vd_worker_add_fd(vd_worker_t *w, int fd, int admin);

/* Asks the worker to drain and stop (any thread). */
void vd_worker_drain(vd_worker_t *w);

void vd_worker_join(vd_worker_t *w);
void vd_worker_close(vd_worker_t *w);

#endif
