/* A decide request that may wait for plugins: it owns a copy of its frame, its decoded event
 * and its decision, so it can outlive the read buffer and resume when a plugin completes. */
#ifndef VD_REQUEST_H
#define VD_REQUEST_H

#include "../policy/policy.h"
#include "arena.h"
#include "decision.h"
#include "pipeline_run.h"

#include <msgpack.h>
#include <stdint.h>

struct vd_conn;
struct vd_worker;

typedef struct vd_request {
    struct vd_worker *w;
    struct vd_conn *conn;
    uint32_t msgid;
    vd_policy_t *policy; /* held until the reply is sent */
    const vd_pipeline_t *pl;
    char *frame;
    msgpack_zone zone;
    const msgpack_object *event;
    vd_arena_t arena;
    vd_decision_t d;
    vd_run_state_t rs;
    int64_t t0, deadline_ns, deadline_ms;
    int refs; /* the engine's, plus one per plugin call not yet completed */
} vd_request_t;

/* Starts a decide on a pipeline with plugin stages: copies frame (the whole request, len
 * bytes), runs the pipeline, and answers now or when its plugin calls are finished. */
void vd_request_start(struct vd_conn *c, uint32_t msgid, vd_policy_t *policy,
                      const vd_pipeline_t *pl, const char *frame, size_t len, int explain,
                      int64_t deadline_ms, int64_t t0);

/* Worker side of asynchronous completion (the worker thread): applies the calls plugins
 * completed, and the deadlines that passed. */
void vd_request_process_completions(struct vd_worker *w);
void vd_request_process_deadlines(struct vd_worker *w);

#endif
