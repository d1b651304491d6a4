/* A decision compared with what its case expects. */
#ifndef VD_PTEST_CHECK_H
#define VD_PTEST_CHECK_H

#include "case.h"
#include "decision/decision.h"

#include <stdio.h>

/* What the comparison found. */
typedef struct vd_ptest_findings {
    int failed;                 /* expectations that failed */
    int tags, features, faults; /* those on tags, on features, on faults failed */
} vd_ptest_findings_t;

/* Compares decision d with what case c expects and writes one line to out for each
 * expectation that failed: "  file:line: what: want ..., got ...". */
void vd_ptest_check(const vd_ptest_case_t *c, const vd_decision_t *d, FILE *out,
                    vd_ptest_findings_t *found);

#endif
