/* verdict test --junit FILE: the results as JUnit XML, as CI systems (Jenkins, GitLab,
 * GitHub Actions) read them. */
#ifndef VD_PTEST_JUNIT_H
#define VD_PTEST_JUNIT_H

#include "runner.h"

#include <stdio.h>

/* Writes the results as JUnit XML: a testsuite per test file, a testcase per case that ran
 * (a failure or an error carrying its first line as message and the whole report as text),
 * and a test file that could not be read as a testcase with an error. Returns 0, or -1 when
 * out reports a write error. */
int vd_ptest_write_junit(const vd_ptest_run_t *run, FILE *out);

#endif
