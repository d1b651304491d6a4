/* What verdict test prints: the failed cases and the errors (with every case under
 * --verbose), then a summary line. */
#ifndef VD_PTEST_REPORT_H
#define VD_PTEST_REPORT_H

#include "runner.h"

#include <stdio.h>

/* Writes the test files that could not be read and the cases that failed or could not run,
 * each with its report (verbose: every case, those that passed on one line). */
void vd_ptest_write_results(const vd_ptest_run_t *run, FILE *out, int verbose);

/* Writes "N passed, M failed[, K errors] in S s", and how many cases --run left out. */
void vd_ptest_write_summary(const vd_ptest_run_t *run, FILE *out);

#endif
