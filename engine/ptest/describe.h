/* A decision written out for a failed case, so that the analyst sees what was decided and
 * why next to what was expected: the action and score against the pipeline's thresholds,
 * every reason, the stopping rule, the shadow outcome, faults, tags and features. */
#ifndef VD_PTEST_DESCRIBE_H
#define VD_PTEST_DESCRIBE_H

#include "check.h"
#include "decision/decision.h"
#include "policy/policy.h"

#include <stdio.h>

/* Writes d, decided by pl, to out as lines indented by two spaces. What the check found says
 * what else to show: the tags and the features when expectations on them failed; the faults
 * unless the check listed them already. */
void vd_ptest_describe(FILE *out, const vd_decision_t *d, const vd_pipeline_t *pl,
                       const vd_ptest_findings_t *found);

#endif
