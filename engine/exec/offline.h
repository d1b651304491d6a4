/* Deciding without a daemon: an executor that loads a policy directory itself and runs one
 * decision at a time, synchronously (plugin calls that complete later are waited for here).
 * Unit suites, policy tests (verdict test) and replays of recorded traffic run pipelines this
 * way, many per second, with a clock and a state store of their own. One thread at a time. */
#ifndef VD_OFFLINE_H
#define VD_OFFLINE_H

#include "base/clock.h"
#include "decision/decision.h"
#include "executor.h"

#include <msgpack.h>
#include <stddef.h>
#include <stdint.h>

struct vd_store;
struct vd_campaigns;

typedef struct vd_offline_config {
    const char *policy_dir;
    const char *data_dir;           /* verdict.data_dir; NULL: "data" */
    const char *const *plugin_dirs; /* where plugin "name" is found as DIR/name.so; may be NULL */
    size_t nplugin_dirs;
    size_t lua_memory;              /* bytes the Lua state may hold; 0: 256 MiB */
    int64_t lua_instructions;       /* budget of one rule call; 0: 1,000,000 */
    struct vd_store *store;         /* counters, distinct counts, labels; NULL: a private store */
    struct vd_campaigns *campaigns; /* verdict.campaign's index; NULL: a private one */
    const vd_clock_t *clock;        /* the decisions' wall clock; NULL: the system's */
} vd_offline_config_t;

typedef struct vd_run_opts {
    int explain;                  /* build the per-stage trace */
    int64_t deadline_ms;          /* 0: none */
    int64_t now_s;                /* this decision's wall-clock time; 0: the executor's clock */
    int observe;                  /* keep what it reads from outside its rules (d->observed) */
    struct vd_recorded *recorded; /* answers from a record (a replay), or NULL */
    int reporting;                /* a report's run (decision.h): d->campaigns are what it found */
} vd_run_opts_t;

/* One decision's outcome. */
typedef struct vd_result {
    int rc;                 /* 0: d holds the decision; else a VD_E* code and error says why */
    const vd_decision_t *d; /* valid until the next run or vd_executor_free */
    char pipeline[96];
    char policy[20]; /* the policy version */
    int64_t elapsed_ns;
    char error[512];
} vd_result_t;

/* Loads the policies of cfg->policy_dir into a new executor. On failure returns a negative
 * VD_E* code with "file:line: message" in err. */
int vd_executor_open(vd_executor_t **out, const vd_offline_config_t *cfg, char *err, size_t errlen);

/* Decides event (a map with string keys) on pipeline. Returns res->rc: 0, VD_ENOTFOUND (no
 * such pipeline), VD_EINVAL (not a valid event), VD_ETIMEOUT (deadline), VD_ENOMEM. */
int vd_executor_run(vd_executor_t *x, const char *pipeline, const msgpack_object *event,
                    const vd_run_opts_t *opts, vd_result_t *res);

/* The same for an event given as msgpack bytes, or as JSON text. */
int vd_executor_run_msgpack(vd_executor_t *x, const char *pipeline, const char *data, size_t len,
                            const vd_run_opts_t *opts, vd_result_t *res);
int vd_executor_run_json(vd_executor_t *x, const char *pipeline, const char *json, size_t len,
                         const vd_run_opts_t *opts, vd_result_t *res);

/* Packs a successful result into sb as the decide method's result map (docs/protocol.md). */
void vd_result_pack(msgpack_sbuffer *sb, const vd_result_t *res);

/* Frees an executor made by vd_executor_open. */
void vd_executor_free(vd_executor_t *x);

#endif
