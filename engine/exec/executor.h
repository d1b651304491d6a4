/* The executor: runs decisions of one policy on one thread, with no sockets. It owns that
 * thread's copy of the policy, the requests that wait (for plugins or Redis), their deadlines
 * and the pipeline and stage figures. The daemon gives each worker one and drives it from the
 * worker's event loop through hooks; offline tools (unit tests, policy tests and replays)
 * open one on a policy directory and decide synchronously, with a clock and a store of their own.
 *
 * Threads: everything is called on the executor's thread, except vd_executor_offer and the
 * completions plugins report (which reach the executor through hooks.wake). */
#ifndef VD_EXECUTOR_H
#define VD_EXECUTOR_H

#include "base/arena.h"
#include "base/clock.h"
#include "base/stats.h"
#include "decision/decision.h"
#include "lua/state.h"
#include "plugin/call.h"
#include "policy/policy.h"
#include "state/state_env.h"

#include <msgpack.h>
#include <pthread.h>
#include <stdint.h>

struct vd_request;
struct vd_store;

/* How the executor asks its thread's loop for attention. */
typedef struct vd_executor_hooks {
    /* Any thread: a plugin completed a call, or a policy was offered; call
     * vd_executor_process (and vd_executor_adopt) on the executor's thread soon. */
    void (*wake)(void *ud);
    /* The executor's thread: call vd_executor_expire at deadline_ns (monotonic), the earliest
     * deadline of a pending plugin call; 0: no call is pending. */
    void (*arm)(void *ud, int64_t deadline_ns);
    void *ud;
} vd_executor_hooks_t;

typedef struct vd_executor_env {
    vd_state_env_t state;     /* where rules and plugins keep state (borrowed) */
    const vd_clock_t *clock;  /* the decisions' wall clock; NULL: the system's */
    int max_waiting;          /* decisions that may wait at once; more are refused (VD_EBUSY) */
    size_t max_waiting_bytes; /* input bytes they may hold at once; 0: no limit */
    vd_executor_hooks_t hooks;
} vd_executor_env_t;

typedef struct vd_executor {
    vd_executor_env_t env;
    vd_policy_t *policy;                      /* serving now; the executor's thread only */
    vd_policy_t *_Atomic pending;             /* offered by a reload, adopted between requests */
    vd_stat_nodes_t stats;                    /* per pipeline, stage, rule; kept on reloads */
    vd_call_host_t call_host;                 /* what plugin calls report to */
    vd_arena_t arena;                         /* decisions that cannot wait, reset after each */
    pthread_mutex_t done_lock;                /* guards done_head and done_closed */
    struct vd_plugin_call *done_head;         /* completed by plugins, not yet applied */
    int done_closed;                          /* the loop is gone: completions are not signalled */
    struct vd_plugin_call *dl_head, *dl_tail; /* pending calls, earliest deadline first */
    int nwaiting;                             /* decisions waiting for plugins or state */
    size_t held_bytes; /* input bytes of waiting decisions (and of ended ones a late plugin
                          call still reads) */
    vd_counter_t waiting_gauge, held_gauge; /* nwaiting and held_bytes, for other threads */
    struct vd_request *spare;               /* finished requests kept for reuse */
    int nspare;
    int closing;
    struct vd_offline *offline; /* set by vd_executor_open */
} vd_executor_t;

/* Called once a decision has ended, with rc 0 (r->d is complete), VD_ETIMEOUT (the deadline
 * passed) or VD_ENOMEM. The request and its decision are borrowed for the call. */
typedef void (*vd_decide_done_t)(struct vd_request *r, int rc);

/* One decision to make. */
typedef struct vd_decide_req {
    const vd_pipeline_t *pl; /* of the executor's policy (vd_executor_pipeline) */
    const msgpack_object *event;
    int explain;         /* build the per-stage trace */
    int64_t deadline_ms; /* 0: none */
    int64_t t0;          /* monotonic time the request arrived; 0: now */
    int64_t now_s;       /* the decision's wall-clock time; 0: the executor's clock */
    int keep;            /* the decision may outlive done (vd__request_hold): its own memory */
    int observe;         /* keep what it reads from outside its rules (it is logged) */
    struct vd_recorded *recorded; /* a replay's answers from the record, or NULL */
    int reporting;      /* a report's run: campaigns are found, not counted (decision.h) */
    void *input;        /* the memory event lives in, handed over to the executor */
    size_t input_bytes; /* its size, counted against env.max_waiting_bytes while it waits */
    void (*free_input)(void *ud, void *input); /* once the decision has ended; may be NULL */
    vd_decide_done_t done;
    void *ud;        /* for done and free_input */
    void *peer;      /* for done: who asked */
    uint64_t cookie; /* for done: which of its requests */
} vd_decide_req_t;

/* Prepares an executor around a compiled policy, taking the caller's reference to it. Returns
 * 0 or VD_ENOMEM. */
int vd_executor_init(vd_executor_t *x, const vd_executor_env_t *env, vd_policy_t *policy);

/* Frees everything: completions still queued, then the policies (destroying their plugin
 * instances abandons calls never completed), then what completed meanwhile. Call once no
 * decision is running; decisions still waiting must have ended (vd_executor_expire). */
void vd_executor_close(vd_executor_t *x);

/* Offers a new policy copy (any thread); an older offer not yet adopted is dropped. */
void vd_executor_offer(vd_executor_t *x, vd_policy_t *p);

/* Switches to an offered policy, if any: call between requests. Decisions still waiting keep
 * the policy they started with. */
void vd_executor_adopt(vd_executor_t *x);

/* The pipeline called name (len bytes) in the serving policy, or NULL. */
const vd_pipeline_t *vd_executor_pipeline(const vd_executor_t *x, const char *name, size_t len);

/* Starts a decision. It runs at once as far as it can; done is called when it ends, which
 * may be before this returns. Ownership of req->input passes to the executor in every case
 * but an error return. Returns 0, VD_EBUSY when this one might wait and env.max_waiting
 * decisions already wait or their inputs and this one's would pass env.max_waiting_bytes (at
 * least one may always wait), or VD_ENOMEM. */
int vd_executor_decide(vd_executor_t *x, const vd_decide_req_t *req);

/* Applies the plugin calls that completed (the executor's thread). */
void vd_executor_process(vd_executor_t *x);

/* Ends the plugin calls whose deadline is at or before now_ns (INT64_MAX: all of them, as a
 * daemon that stops waiting does); their requests go on without them. */
void vd_executor_expire(vd_executor_t *x, int64_t now_ns);

/* From now on completions are queued but not signalled (the loop is closing). */
void vd_executor_stop_waking(vd_executor_t *x);

#endif
