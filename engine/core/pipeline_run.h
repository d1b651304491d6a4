/* Running one pipeline of a loaded policy over one event. */
#ifndef VD_PIPELINE_RUN_H
#define VD_PIPELINE_RUN_H

#include "../policy/policy.h"
#include "decision.h"

#include <msgpack.h>
#include <stdint.h>

/* Monotonic clock in nanoseconds. */
int64_t vd_now_ns(void);

/* Runs every stage of pl over event, filling d (its action included). A rule that fails is a
 * fault recorded in d, never an error of the call. deadline_ns (monotonic, 0 = none) is
 * checked between rules. Returns 0, VD_ETIMEOUT or VD_ENOMEM. */
int vd_pipeline_run(vd_policy_t *p, const vd_pipeline_t *pl, const msgpack_object *event,
                    vd_decision_t *d, int64_t deadline_ns);

#endif
