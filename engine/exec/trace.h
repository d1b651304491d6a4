/* What explain records of a run beyond the rules that ran: the stages and rules a stop or a
 * timeout left out (with why), each stage's entry, and the thresholds (decision.h's trace,
 * packed by decision/explain_pack.c). Only with d->explain. */
#ifndef VD_EXEC_TRACE_H
#define VD_EXEC_TRACE_H

#include "decision/decision.h"
#include "policy/policy.h"

#include <stddef.h>

/* Why the rules after a stop of o did not run ("rule 'x' stopped the pipeline with 'allow'",
 * or the stage's timeout), kept in d's arena. */
const char *vd_trace_skip_reason(vd_decision_t *d, const vd_outcome_t *o);

/* Adds the rules of st from first on to ts as not run, with why. Returns 0 or VD_ENOMEM. */
int vd_trace_skipped(vd_decision_t *d, vd_trace_stage_t *ts, const vd_stage_t *st, size_t first,
                     const char *why);

/* A new entry for stage st at the end of d's trace, or NULL (no memory). */
vd_trace_stage_t *vd_trace_stage_new(vd_decision_t *d, const vd_stage_t *st);

/* At the end of a run: the stages from next_stage on as not run (a stop ended the pipeline),
 * and pl's thresholds and default action for explain's arithmetic. Returns 0 or VD_ENOMEM. */
int vd_trace_explain_rest(const vd_pipeline_t *pl, size_t next_stage, vd_decision_t *d);

/* The entry of the stage that is running (the last one), or NULL without explain. */
vd_trace_stage_t *vd_trace_current(vd_decision_t *d);

#endif
