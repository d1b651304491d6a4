#include "validate.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static int invalid(const vd_ptest_case_t *c, int line, char *err, size_t errlen, const char *fmt,
                   ...) __attribute__((format(printf, 5, 6)));

static int invalid(const vd_ptest_case_t *c, int line, char *err, size_t errlen, const char *fmt,
                   ...) {
    int n = snprintf(err, errlen, "%s:%d: case '%s': ", c->file, line, c->name);
    va_list ap;
    va_start(ap, fmt);
    if (n > 0 && (size_t)n < errlen) vsnprintf(err + n, errlen - (size_t)n, fmt, ap);
    va_end(ap);
    return -1;
}

static int has_rule(const vd_pipeline_t *pl, const char *name) {
    for (size_t s = 0; s < pl->nstages; s++)
        for (size_t i = 0; i < pl->stages[s].nrules; i++)
            if (strcmp(pl->stages[s].rules[i]->name, name) == 0) return 1;
    return 0;
}

static int has_stage(const vd_pipeline_t *pl, const char *name) {
    for (size_t s = 0; s < pl->nstages; s++)
        if (strcmp(pl->stages[s].name, name) == 0) return 1;
    return 0;
}

/* "a, b, c" of the NULL-terminated names, or of the pipelines of p. */
static void join(char *buf, size_t cap, const char *const *names, const vd_policy_t *p) {
    buf[0] = '\0';
    for (size_t i = 0; names ? names[i] != NULL : i < p->npipelines; i++) {
        size_t n = strlen(buf);
        snprintf(buf + n, cap - n, "%s%s", i ? ", " : "", names ? names[i] : p->pipelines[i].name);
    }
}

static int check_action(const vd_ptest_case_t *c, const vd_pipeline_t *pl, const char *action,
                        int line, const char *what, char *err, size_t errlen) {
    for (const char *const *a = pl->action_names; action && *a; a++)
        if (strcmp(*a, action) == 0) return 0;
    if (!action) return 0;
    char known[512];
    join(known, sizeof known, pl->action_names, NULL);
    return invalid(c, line, err, errlen, "%s: pipeline '%s' has no action '%s' (its actions: %s)",
                   what, pl->name, action, known);
}

static int check_rules(const vd_ptest_case_t *c, const vd_pipeline_t *pl,
                       const vd_ptest_names_t *names, const char *what, int stages, char *err,
                       size_t errlen) {
    for (uint32_t i = 0; i < names->items.len; i++) {
        const vd_ptest_name_t *n = &VD_VEC_AT(names->items, vd_ptest_name_t, i);
        if (has_rule(pl, n->name) || (stages && has_stage(pl, n->name))) continue;
        return invalid(c, n->line, err, errlen, "%s: pipeline '%s' has no %s '%s'", what, pl->name,
                       stages ? "rule or stage" : "rule", n->name);
    }
    return 0;
}

int vd_ptest_validate(const vd_ptest_case_t *c, const vd_policy_t *p, char *err, size_t errlen) {
    const vd_pipeline_t *pl = vd_policy_pipeline(p, c->pipeline, strlen(c->pipeline));
    if (!pl) {
        char known[512];
        join(known, sizeof known, NULL, p);
        return invalid(c, c->pipeline_line, err, errlen, "no pipeline '%s' (pipelines: %s)%s",
                       c->pipeline, known,
                       c->pipeline_from_file ? "; give pipeline = \"...\"" : "");
    }
    const vd_ptest_expect_t *e = &c->expect;
    vd_ptest_names_t stop = {.given = e->stopped_by != NULL};
    vd_ptest_name_t stop_name = {e->stopped_by, e->stopped_by_line};
    if (stop.given) stop.items = (vd_vec_t){&stop_name, 1, 1};
    if (check_rules(c, pl, &e->fired, "fired", 0, err, errlen) ||
        check_rules(c, pl, &e->not_fired, "not_fired", 0, err, errlen) ||
        check_rules(c, pl, &stop, "stopped_by", 0, err, errlen) ||
        check_rules(c, pl, &e->faults, "faults", 1, err, errlen) ||
        check_action(c, pl, e->action, e->action_line, "action", err, errlen) ||
        check_action(c, pl, e->shadow_action, e->shadow_action_line, "shadow_action", err, errlen))
        return -1;
    return 0;
}
