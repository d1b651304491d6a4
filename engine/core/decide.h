/* The decide reply, shared by decisions answered at once and those that waited for plugins. */
#ifndef VD_DECIDE_H
#define VD_DECIDE_H

#include "../policy/policy.h"
#include "decision.h"

#include <stdint.h>

struct vd_conn;

/* Packs the reply to a decide request whose run ended with rc (0, VD_ETIMEOUT, ...) and
 * counts it in the pipeline's stats. */
void vd_decide_reply(struct vd_conn *c, uint32_t msgid, const vd_pipeline_t *pl,
                     const vd_policy_t *policy, const vd_decision_t *d, int rc, int64_t t0,
                     int64_t deadline_ms);

#endif
