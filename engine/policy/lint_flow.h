/* The lint's checks on the compiled pipelines: rules in no stage, rules and stages that never
 * run because a rule before them always fires and stops, and actions no total score reaches. */
#ifndef VD_POLICY_LINT_FLOW_H
#define VD_POLICY_LINT_FLOW_H

#include "lint.h"
#include "lint_code.h"

#include <lua.h>

/* Runs the checks on p into out; call inside a protected call on p's state L, after
 * vd__lint_code filled code. Returns 0 or VD_ENOMEM. */
int vd__lint_flow(lua_State *L, const vd_policy_t *p, const vd_lint_code_t *code,
                  vd_lint_report_t *out);

#endif
