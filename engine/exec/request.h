/* One decision in progress: what it was asked (the decoded event and the memory it lives in),
 * the decision it builds, and where its run stopped when it waits for a plugin or Redis. */
#ifndef VD_REQUEST_H
#define VD_REQUEST_H

#include "base/arena.h"
#include "decision/decision.h"
#include "executor.h"
#include "policy/policy.h"
#include "run.h"

#include <stdint.h>

typedef struct vd_request {
    vd_executor_t *x;
    vd_decide_req_t in;
    vd_policy_t *policy; /* held until the decision ends */
    vd_arena_t own_arena;
    vd_decision_t d;
    vd_run_state_t rs;
    int64_t deadline_ns;
    int64_t elapsed_ns; /* from t0 to the end of the decision */
    int refs;           /* the executor's while it runs, plus one per plugin call not finished */
    int heap;           /* allocated (may wait); else on the caller's stack */
    struct vd_request *next_spare; /* in the executor's list of finished requests */
} vd_request_t;

/* A request of the executor's own (a spare one when it has one), or NULL when out of memory. */
vd_request_t *vd__request_new(vd_executor_t *x);

/* Frees the spare requests (the executor is closing). */
void vd__requests_free_spares(vd_executor_t *x);

/* Starts r (filled by vd_executor_decide) and runs it as far as it can. */
void vd__request_start(vd_request_t *r);

/* Keeps r (and its decision) past its done callback: one more hold, let go with
 * vd__request_release. Only for requests made with keep. */
void vd__request_hold(vd_request_t *r);

/* Lets go of one hold on r; the last frees it. */
void vd__request_release(void *r);

/* Applies completed plugin calls / ends calls past their deadline (see executor.h). */
void vd__requests_process(vd_executor_t *x);
void vd__requests_expire(vd_executor_t *x, int64_t now_ns);

#endif
