/* Rule coverage: which rules of each pipeline some case fired (verdict test --coverage). */
#ifndef VD_PTEST_COVERAGE_H
#define VD_PTEST_COVERAGE_H

#include "base/arena.h"
#include "decision/decision.h"
#include "policy/policy.h"

#include <stddef.h>
#include <stdio.h>

typedef struct vd_ptest_cov_rule {
    const char *rule, *stage;
    int shadow;
    int fired;
} vd_ptest_cov_rule_t;

typedef struct vd_ptest_cov_pipeline {
    const char *name;
    vd_ptest_cov_rule_t *rules; /* in the order the pipeline runs them */
    size_t nrules;
    size_t cases; /* that decided this pipeline */
} vd_ptest_cov_pipeline_t;

typedef struct vd_ptest_coverage {
    vd_ptest_cov_pipeline_t *pipelines;
    size_t npipelines;
    int partial; /* not every case ran (--run) */
} vd_ptest_coverage_t;

/* Lists the rules of every pipeline of p, none fired yet, with names copied into arena.
 * Returns 0 or VD_ENOMEM. */
int vd_ptest_coverage_init(vd_ptest_coverage_t *cov, const vd_policy_t *p, vd_arena_t *arena);

/* Marks the rules that fired in d, a decision of pipeline. */
void vd_ptest_coverage_mark(vd_ptest_coverage_t *cov, const char *pipeline, const vd_decision_t *d);

/* Writes, for each pipeline, its rules that no case fired (shadow ones marked), or that every
 * one fired. */
void vd_ptest_coverage_write(const vd_ptest_coverage_t *cov, FILE *out);

#endif
