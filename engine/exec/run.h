/* Running one pipeline of a loaded policy over one event. A run stops at a plugin stage whose
 * call is pending (or a rule that waits for Redis) and resumes once the wait is over. */
#ifndef VD_PIPELINE_RUN_H
#define VD_PIPELINE_RUN_H

#include "decision/decision.h"
#include "policy/policy.h"

#include <lua.h>
#include <msgpack.h>
#include <stdint.h>

struct vd_plugin_call;
struct vd_call_host;
struct vd_state_op;

/* Where a run is; zero it before the first vd_pipeline_run. */
typedef struct vd_run_state {
    size_t next_stage;
    struct vd_plugin_call *pending;  /* set when the run returned VD_EAGAIN for a plugin */
    struct vd_state_op *op;          /* set when it returned VD_EAGAIN for state (Redis) */
    const struct vd_call_host *host; /* runs plugin calls that complete later (NULL: none may) */
    void *owner;                     /* the request those calls belong to */
    int64_t now_s;                   /* the decision's wall-clock time; 0: the system's, now */
    /* A rule suspended while it waits for state, and where it is. */
    lua_State *co;
    int co_ref;
    int64_t budget_left; /* its instructions left */
    size_t mem_base;     /* what the Lua state held when it started (its memory allowance) */
    size_t next_rule;
    int64_t stage_t0;
    double stage_before;
    int views;            /* while the request waits: its event views (lua_view.h), else 0 */
    uint64_t time_weight; /* the runs each rule's time stands for (stats.h); 0: not timed */
} vd_run_state_t;

/* Runs the stages of pl from rs->next_stage over event, filling d (its action included when
 * the run ends). A rule that fails is a fault recorded in d, never an error of the call.
 * deadline_ns (monotonic, 0 = none) is checked between rules and stages. Returns 0 when the
 * decision is complete, VD_EAGAIN when a plugin call is pending (rs->pending; finish it with
 * vd_pipeline_finish_call, then call this again) or a rule waits for state (rs->op; call this
 * again once the operation is done), VD_ETIMEOUT or VD_ENOMEM. Plugin calls may stay pending, and
 * rules wait for state in Redis, only when rs->host is set. */
int vd_pipeline_run(vd_policy_t *p, const vd_pipeline_t *pl, const msgpack_object *event,
                    vd_decision_t *d, int64_t deadline_ns, vd_run_state_t *rs);

/* Applies a finished plugin call of stage st to d: its outputs when status is VD_PLUGIN_OK,
 * else a fault (timed_out: the stage's deadline passed) and the stage's on_error action.
 * Counts the stage in its stats and trace. Returns 0 or VD_ENOMEM. */
int vd_pipeline_finish_call(const vd_stage_t *st, struct vd_plugin_call *call, int status,
                            vd_decision_t *d);

#endif
