#include "lint_flow.h"

#include "base/error.h"
#include "key_line.h"

#include <lauxlib.h>

#include <math.h>
#include <stdlib.h>
#include <string.h>

static int in_some_stage(const vd_policy_t *p, const vd_rule_t *r) {
    for (size_t i = 0; i < p->npipelines; i++)
        for (size_t s = 0; s < p->pipelines[i].nstages; s++) {
            const vd_stage_t *st = &p->pipelines[i].stages[s];
            for (size_t k = 0; k < st->nrules; k++)
                if (st->rules[k] == r) return 1;
        }
    return 0;
}

static int unused_rules(const vd_policy_t *p, vd_lint_report_t *out) {
    int rc = 0;
    for (size_t i = 0; i < p->nrules && rc == 0; i++)
        if (!in_some_stage(p, &p->rules[i]))
            rc = vd__lint_add(out, VD_LINT_UNUSED_RULE, p->rules[i].file, p->rules[i].line,
                              "rule '%s' is in no stage of any pipeline: it never runs",
                              p->rules[i].name);
    return rc;
}

/* What the checks on one pipeline work with. */
typedef struct flow {
    lua_State *L;
    const vd_policy_t *p;
    const vd_lint_code_t *code;
    const vd_pipeline_t *pl;
    vd_lint_report_t *out;
} flow_t;

/* A rule that ends its side of the pipeline whenever it runs: a stop action, a fixed score (a
 * score function could fail, and a failing rule does not fire) and a when that always returns
 * true. */
static int always_stops(const flow_t *f, const vd_rule_t *r) {
    return r->stop && r->score_ref == LUA_NOREF && !r->native &&
           vd__lint_always_true(f->L, f->code, r->when_ref);
}

static vd_decl_at_t stage_decl(const vd_stage_t *st) {
    return (vd_decl_at_t){st->kind == VD_STAGE_PLUGIN ? "plugin" : "stage", st->name, st->file,
                          st->line};
}

/* Where the run of one side (live or shadow) was ended for good, if it was. */
typedef struct stopped {
    const vd_rule_t *rule;
    const vd_stage_t *stage;
} stopped_t;

/* Reports the rules of st after one that always stops; returns the stopper (or NULL). */
static const vd_rule_t *stops_within(const flow_t *f, const vd_stage_t *st, int *rc) {
    const vd_rule_t *stopper = NULL;
    vd_decl_at_t d = stage_decl(st);
    for (size_t i = 0; i < st->nrules && *rc == 0; i++) {
        const vd_rule_t *r = st->rules[i];
        if (stopper)
            *rc = vd__lint_add(f->out, VD_LINT_UNREACHABLE_RULE, st->file,
                               vd_policy_key_line(f->p->src, &d, NULL, 0, r->name),
                               "pipeline '%s': rule '%s' never runs in stage '%s': rule '%s' "
                               "before it always fires and stops with '%s'",
                               f->pl->name, r->name, st->name, stopper->name, stopper->stop);
        else if (always_stops(f, r))
            stopper = r;
    }
    return stopper;
}

static int unreachable(const flow_t *f) {
    stopped_t live = {0}, shadow = {0};
    int rc = 0;
    for (size_t s = 0; s < f->pl->nstages && rc == 0; s++) {
        const vd_stage_t *st = &f->pl->stages[s];
        const stopped_t *by = live.rule ? &live : st->shadow && shadow.rule ? &shadow : NULL;
        if (by) {
            rc = vd__lint_add(f->out, VD_LINT_UNREACHABLE_RULE, st->file, st->line,
                              "pipeline '%s': stage '%s' never runs: rule '%s' of stage '%s' "
                              "always fires and stops with '%s'",
                              f->pl->name, st->name, by->rule->name, by->stage->name,
                              by->rule->stop);
            continue;
        }
        const vd_rule_t *stopper = stops_within(f, st, &rc);
        /* Past its timeout_ms a stage ends before its stop rule, and later stages run. */
        if (!stopper || st->timeout_ms) continue;
        stopped_t *side = st->shadow ? &shadow : &live;
        *side = (stopped_t){stopper, st};
    }
    return rc;
}

/* ---- thresholds ---- */

/* Totals that fixed scores can add up to: every sum of a subset, while there are at most
 * MAX_SUMS of them; past that, only the lowest and highest. */
#define MAX_SUMS 4096

typedef struct totals {
    double *sums; /* sorted, no two equal; NULL: too many, use lo and hi */
    size_t n;
    double lo, hi;
    int fractions; /* some score is not a whole number: sums may differ in their last bits */
} totals_t;

static int by_value(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static void add_score(totals_t *t, double s) {
    t->fractions |= s != floor(s) || fabs(s) > 0x1p40;
    t->lo += s < 0 ? s : 0;
    t->hi += s > 0 ? s : 0;
    if (!t->sums) return;
    if (2 * t->n > MAX_SUMS) {
        free(t->sums);
        t->sums = NULL;
        return;
    }
    for (size_t i = 0, n = t->n; i < n; i++)
        t->sums[t->n++] = t->sums[i] + s;
    qsort(t->sums, t->n, sizeof *t->sums, by_value);
    size_t kept = 1;
    for (size_t i = 1; i < t->n; i++)
        if (t->sums[i] != t->sums[kept - 1]) t->sums[kept++] = t->sums[i];
    t->n = kept;
}

/* Whether some total lies in [lower, upper). Fractions added up in another order can differ
 * in their last bits, so then a sum within a hair of a bound counts for both sides. */
static int reaches(const totals_t *t, double lower, double upper) {
    if (!t->sums) return t->hi >= lower && t->lo < upper;
    for (size_t i = 0; i < t->n; i++) {
        double x = t->sums[i], eps = t->fractions ? 1e-9 * (fabs(x) > 1 ? fabs(x) : 1) : 0;
        if (x + eps >= lower && x - eps < upper) return 1;
    }
    return 0;
}

/* The totals of pl's live rules, or 0 when they cannot be known: a score function, or a
 * plugin stage (plugins add scores of their own). A rule with a stop action is left out: when it
 * fires, the thresholds do not decide. */
static int live_totals(const vd_pipeline_t *pl, totals_t *t) {
    for (size_t s = 0; s < pl->nstages; s++) {
        const vd_stage_t *st = &pl->stages[s];
        if (st->shadow) continue;
        if (st->kind == VD_STAGE_PLUGIN) return 0;
        for (size_t i = 0; i < st->nrules; i++) {
            if (st->rules[i]->stop) continue;
            if (st->rules[i]->score_ref != LUA_NOREF) return 0;
            add_score(t, st->rules[i]->score);
        }
    }
    return 1;
}

static int action_line(const vd_policy_t *p, const vd_pipeline_t *pl, const char *action) {
    vd_decl_at_t d = {"pipeline", pl->name, pl->file, pl->line};
    const char *keys[] = {"actions", action};
    return vd_policy_key_line(p->src, &d, keys, 2, NULL);
}

static int unreached_action(const vd_policy_t *p, const vd_pipeline_t *pl, const totals_t *t,
                            size_t i, vd_lint_report_t *out) {
    const vd_threshold_t *a = &pl->actions[i];
    int line = action_line(p, pl, a->name);
    if (t->hi < a->bound)
        return vd__lint_add(out, VD_LINT_UNREACHABLE_ACTION, pl->file, line,
                            "pipeline '%s': the score never reaches action '%s' (from %g): the "
                            "rules' fixed scores add up to %g at most (a rule that stops with "
                            "it still gives it)",
                            pl->name, a->name, a->bound, t->hi);
    if (i + 1 < pl->nactions)
        return vd__lint_add(out, VD_LINT_UNREACHABLE_ACTION, pl->file, line,
                            "pipeline '%s': the score never gives action '%s': no total of the "
                            "rules' fixed scores lies from %g up to %g ('%s')",
                            pl->name, a->name, a->bound, pl->actions[i + 1].bound,
                            pl->actions[i + 1].name);
    return vd__lint_add(out, VD_LINT_UNREACHABLE_ACTION, pl->file, line,
                        "pipeline '%s': the score never gives action '%s': no total of the "
                        "rules' fixed scores is %g or more",
                        pl->name, a->name, a->bound);
}

static int thresholds(const vd_policy_t *p, const vd_pipeline_t *pl, vd_lint_report_t *out) {
    if (pl->nactions == 0) return 0;
    totals_t t = {.sums = malloc(sizeof *t.sums * 2 * MAX_SUMS), .n = 1};
    if (!t.sums) return VD_ENOMEM;
    t.sums[0] = 0;
    int rc = 0;
    if (live_totals(pl, &t)) {
        for (size_t i = 0; i < pl->nactions && rc == 0; i++) {
            double upper = i + 1 < pl->nactions ? pl->actions[i + 1].bound : INFINITY;
            if (!reaches(&t, pl->actions[i].bound, upper)) rc = unreached_action(p, pl, &t, i, out);
        }
        if (rc == 0 && !reaches(&t, -INFINITY, pl->actions[0].bound))
            rc = vd__lint_add(
                out, VD_LINT_UNREACHABLE_ACTION, pl->file, action_line(p, pl, pl->actions[0].name),
                "pipeline '%s': the default action '%s' never applies: every total "
                "of the rules' fixed scores is %g or more ('%s')",
                pl->name, pl->default_action, pl->actions[0].bound, pl->actions[0].name);
    }
    free(t.sums);
    return rc;
}

int vd__lint_flow(lua_State *L, const vd_policy_t *p, const vd_lint_code_t *code,
                  vd_lint_report_t *out) {
    int rc = unused_rules(p, out);
    for (size_t i = 0; i < p->npipelines && rc == 0; i++) {
        flow_t f = {L, p, code, &p->pipelines[i], out};
        rc = unreachable(&f);
        if (rc == 0) rc = thresholds(p, &p->pipelines[i], out);
    }
    return rc;
}
