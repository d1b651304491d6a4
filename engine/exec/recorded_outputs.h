/* A replay's recorded plugin outputs (vd_plugin_call_pack's form, read back from a decision
 * log record) applied to a decision as the plugin's call would have: its scores, tags and
 * features. */
#ifndef VD_EXEC_RECORDED_OUTPUTS_H
#define VD_EXEC_RECORDED_OUTPUTS_H

#include "decision/decision.h"
#include "policy/policy.h"

#include <msgpack.h>

/* The value under key in m, a map of string keys; NULL when m is no map or lacks key. */
const msgpack_object *vd_recorded_field(const msgpack_object *m, const char *key);

/* Applies one recorded output of stage st to d. Returns 0 (an output of no known form is
 * ignored) or VD_ENOMEM. */
int vd_recorded_output_apply(const vd_stage_t *st, const msgpack_object *out, vd_decision_t *d);

#endif
