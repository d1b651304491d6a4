/* A case checked against the loaded policy before it runs: what it names must exist, so that
 * a misspelt rule in not_fired cannot pass for ever. */
#ifndef VD_PTEST_VALIDATE_H
#define VD_PTEST_VALIDATE_H

#include "case.h"
#include "policy/policy.h"

#include <stddef.h>

/* Checks that the pipeline of case c is one of p's and that the rules (fired, not_fired,
 * stopped_by), actions (action, shadow_action) and faults (rules or stages) it names are
 * that pipeline's. Returns 0, or -1 with "file:line: case 'name': message" in err. */
int vd_ptest_validate(const vd_ptest_case_t *c, const vd_policy_t *p, char *err, size_t errlen);

#endif
