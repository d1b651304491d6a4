/* What explain adds to a decision's reply (docs/protocol.md, "explain"): the trace, every
 * stage and rule with what it read and why it did or did not count, and "why", the threshold
 * arithmetic that chose the action. */
#ifndef VD_EXPLAIN_PACK_H
#define VD_EXPLAIN_PACK_H

#include "decision.h"

#include <msgpack.h>

/* Packs the trace array. */
void vd_trace_pack(msgpack_sbuffer *sb, const vd_decision_t *d);

/* Packs the why map: score, action, because, thresholds, default and, with a shadow stage,
 * the same for the shadow outcome. */
void vd_why_pack(msgpack_sbuffer *sb, const vd_decision_t *d);

/* One state read as the decision log keeps it: {op, key, [n | value], result}. */
void vd_observed_pack(msgpack_sbuffer *sb, const vd_observed_t *o);

#endif
