/* The lint's checks on compiled code (lua/chunk.h): the globals rule code reads or writes, and
 * the lists no rule can reach. Everything reachable from the rules' functions is walked (their
 * upvalues, the tables and functions those lead to, the globals their code reads), and each
 * Lua function met has its code read for the globals it names. */
#ifndef VD_POLICY_LINT_CODE_H
#define VD_POLICY_LINT_CODE_H

#include "lint.h"

#include <lua.h>

typedef struct vd_lint_code {
    int readable; /* this Lua build's code reads as the lint expects (a probe passed) */
} vd_lint_code_t;

/* Runs the checks on p into out; call inside a protected call on p's state L (memory errors
 * raise). Returns 0 or VD_ENOMEM. When the code cannot be read, one not-checked finding says
 * so and code->readable is 0. */
int vd__lint_code(lua_State *L, vd_policy_t *p, vd_lint_report_t *out, vd_lint_code_t *code);

/* 1 when the Lua function at registry reference ref returns a true constant first whatever
 * it is given (`function() return true end`), so that a rule with it always fires; 0 when
 * not, or when that cannot be told. */
int vd__lint_always_true(lua_State *L, const vd_lint_code_t *code, int ref);

#endif
