/* What the reads a replay answered from the record would have taught its own state, applied in
 * input order (decision/recorded.h, "learn"): an anomaly model learns the value, a profile the
 * event. A later read the record cannot answer (a candidate asking differently for some
 * decisions, a record from an older build) then finds the history a decision-by-decision run
 * would have built. */
#ifndef VD_REPLAY_LEARN_H
#define VD_REPLAY_LEARN_H

#include "state/store.h"

#include <stddef.h>

/* Applies the learn entries packed in p[0..n) to store, in order; the reading stops at the
 * first that is not one (the bindings wrote them; fuzz_replay_record tries any bytes). */
void vd_replay_learn(vd_store_t *store, const char *p, size_t n);

#endif
