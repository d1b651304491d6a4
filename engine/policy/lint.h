/* The policy lint: mistakes a policy loads with but that would misbehave quietly. A misspelt
 * global passes the load and then faults its rule on every request (fail open); a rule in no
 * stage, a list no rule uses, a rule after one that always stops, an action no total can reach
 * are all silent. The lint finds them on a loaded policy, from the compiled code and the
 * compiled pipelines, without running any rule.
 *
 * `verdictd --check` prints the findings as warnings (errors with --strict); `verdict test`
 * and editors call vd_policy_lint the same way:
 *
 *     vd_lint_report_t r;
 *     if (vd_policy_lint(policy, &r) == 0)
 *         for (size_t i = 0; i < r.n; i++) {
 *             char line[1200];
 *             vd_lint_format(&r.items[i], strict, line, sizeof line);
 *             puts(line);
 *         }
 *     vd_lint_report_free(&r);
 */
#ifndef VD_POLICY_LINT_H
#define VD_POLICY_LINT_H

#include "policy.h"

#include <stddef.h>

/* X(ENUM, "name printed after a finding") */
#define VD_LINT_CHECKS(X)                                                                          \
    X(UNDEFINED_GLOBAL, "undefined-global")                                                        \
    X(UNKNOWN_FIELD, "unknown-field")                                                              \
    X(GLOBAL_WRITE, "global-write")                                                                \
    X(LOCAL_WRITE, "local-write")                                                                  \
    X(UNUSED_RULE, "unused-rule")                                                                  \
    X(UNUSED_LIST, "unused-list")                                                                  \
    X(UNREACHABLE_RULE, "unreachable-rule")                                                        \
    X(UNREACHABLE_ACTION, "unreachable-action")                                                    \
    X(NOT_CHECKED, "not-checked")

typedef enum {
#define VD_LINT_ENUM(e, name) VD_LINT_##e,
    VD_LINT_CHECKS(VD_LINT_ENUM)
#undef VD_LINT_ENUM
        VD_LINT__COUNT
} vd_lint_check_t;

typedef struct vd_lint_finding {
    vd_lint_check_t check;
    char *file; /* as load errors name it: "<policy dir>/<path>" */
    int line;   /* 0: the finding is about the policy as a whole (file is the directory) */
    char *message;
} vd_lint_finding_t;

typedef struct vd_lint_report {
    vd_lint_finding_t *items; /* sorted by file, line and message; no two alike */
    size_t n, cap;
} vd_lint_report_t;

/* Lints p, a policy vd_policy_load returned, on the thread that owns it (it reads p's Lua
 * state; nothing in it changes). Returns 0 with the findings in out (none: a clean policy), or
 * VD_ENOMEM. Free out with vd_lint_report_free in every case. */
int vd_policy_lint(vd_policy_t *p, vd_lint_report_t *out);

void vd_lint_report_free(vd_lint_report_t *r);

/* "undefined-global", ...: the name of a check. */
const char *vd_lint_check_name(vd_lint_check_t c);

/* Writes "file:line: warning: message [check]" into buf (cap bytes), "error" instead of
 * "warning" when as_error (--strict). */
void vd_lint_format(const vd_lint_finding_t *f, int as_error, char *buf, size_t cap);

/* For the lint's own files: adds a finding (the message made from fmt). Returns 0 or
 * VD_ENOMEM. */
int vd__lint_add(vd_lint_report_t *r, vd_lint_check_t check, const char *file, int line,
                 const char *fmt, ...) __attribute__((format(printf, 5, 6)));

#endif
