#include "coverage.h"

#include "base/error.h"
#include "put.h"

#include <string.h>

static int fill(vd_ptest_cov_pipeline_t *cp, const vd_pipeline_t *pl, vd_arena_t *a) {
    size_t n = 0;
    for (size_t s = 0; s < pl->nstages; s++)
        n += pl->stages[s].kind == VD_STAGE_RULES ? pl->stages[s].nrules : 0;
    cp->name = vd_arena_strndup(a, pl->name, strlen(pl->name));
    cp->rules = vd_arena_alloc(a, (n + 1) * sizeof *cp->rules);
    if (!cp->name || !cp->rules) return VD_ENOMEM;
    for (size_t s = 0; s < pl->nstages; s++) {
        const vd_stage_t *st = &pl->stages[s];
        for (size_t i = 0; st->kind == VD_STAGE_RULES && i < st->nrules; i++) {
            vd_ptest_cov_rule_t *r = &cp->rules[cp->nrules++];
            r->rule = vd_arena_strndup(a, st->rules[i]->name, strlen(st->rules[i]->name));
            r->stage = vd_arena_strndup(a, st->name, strlen(st->name));
            r->shadow = st->shadow;
            r->fired = 0;
            if (!r->rule || !r->stage) return VD_ENOMEM;
        }
    }
    return 0;
}

int vd_ptest_coverage_init(vd_ptest_coverage_t *cov, const vd_policy_t *p, vd_arena_t *arena) {
    memset(cov, 0, sizeof *cov);
    cov->pipelines = vd_arena_alloc(arena, (p->npipelines + 1) * sizeof *cov->pipelines);
    if (!cov->pipelines) return VD_ENOMEM;
    memset(cov->pipelines, 0, (p->npipelines + 1) * sizeof *cov->pipelines);
    for (size_t i = 0; i < p->npipelines; i++, cov->npipelines++) {
        int rc = fill(&cov->pipelines[i], &p->pipelines[i], arena);
        if (rc) return rc;
    }
    return 0;
}

static void mark_side(vd_ptest_cov_pipeline_t *cp, const vd_vec_t *reasons) {
    for (uint32_t i = 0; i < reasons->len; i++) {
        const vd_reason_t *r = &VD_VEC_AT(*reasons, vd_reason_t, i);
        for (size_t k = 0; k < cp->nrules; k++)
            if (strcmp(cp->rules[k].rule, r->rule) == 0 &&
                strcmp(cp->rules[k].stage, r->stage) == 0)
                cp->rules[k].fired = 1;
    }
}

void vd_ptest_coverage_mark(vd_ptest_coverage_t *cov, const char *pipeline,
                            const vd_decision_t *d) {
    for (size_t i = 0; i < cov->npipelines; i++) {
        vd_ptest_cov_pipeline_t *cp = &cov->pipelines[i];
        if (strcmp(cp->name, pipeline) != 0) continue;
        cp->cases++;
        mark_side(cp, &d->main.reasons);
        mark_side(cp, &d->shadow.reasons);
    }
}

void vd_ptest_coverage_write(const vd_ptest_coverage_t *cov, FILE *out) {
    fprintf(out, "coverage%s:\n", cov->partial ? " of the cases --run selected" : "");
    for (size_t i = 0; i < cov->npipelines; i++) {
        const vd_ptest_cov_pipeline_t *cp = &cov->pipelines[i];
        size_t unfired = 0;
        for (size_t k = 0; k < cp->nrules; k++)
            unfired += !cp->rules[k].fired;
        fputs("  ", out);
        vd_ptest_put(out, cp->name);
        if (!unfired) {
            fprintf(out, ": every rule fired (%zu rule%s, %zu case%s)\n", cp->nrules,
                    cp->nrules == 1 ? "" : "s", cp->cases, cp->cases == 1 ? "" : "s");
            continue;
        }
        fprintf(out, ": %zu of %zu rules not fired by any case (%zu case%s)\n", unfired, cp->nrules,
                cp->cases, cp->cases == 1 ? "" : "s");
        for (size_t k = 0; k < cp->nrules; k++) {
            if (cp->rules[k].fired) continue;
            fputs("    ", out);
            vd_ptest_put(out, cp->rules[k].stage);
            fputc('/', out);
            vd_ptest_put(out, cp->rules[k].rule);
            fputs(cp->rules[k].shadow ? " (shadow)\n" : "\n", out);
        }
    }
}
