/* Turning the declarations recorded by dsl.c into vd_rule_t / vd_pipeline_t, validating
 * everything and reporting the first problem as "file:line: message". */
#ifndef VD_POLICY_COMPILE_H
#define VD_POLICY_COMPILE_H

#include "policy.h"

/* Compiles the recorded declarations of p->L into p. Returns 0 or VD_EPOLICY/VD_ENOMEM. */
int vd_policy_compile(vd_policy_t *p, char *err, size_t errlen);

/* Frees what vd_policy_compile built (safe on partly built policies). */
void vd_policy_compiled_free(vd_policy_t *p);

#endif
