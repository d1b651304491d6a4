/* verdict test: the test files of a policy directory run offline, through the executor the
 * daemon uses (exec/offline.h). Each case starts from an empty state store seeded with its
 * own state, at its own time, so cases are independent and their order does not matter. */
#ifndef VD_PTEST_RUNNER_H
#define VD_PTEST_RUNNER_H

#include "base/arena.h"
#include "base/vec.h"
#include "coverage.h"
#include "policy/lint.h"
#include "suite.h"

#include <stddef.h>

typedef struct vd_ptest_config {
    const char *dir;      /* the policy directory, with its test files */
    const char *data_dir; /* verdict.data_dir (absolute); NULL: "data" */
    const char *const *plugin_dirs;
    size_t nplugin_dirs;
    const char *run; /* an extended regular expression: only cases whose name matches run */
} vd_ptest_config_t;

typedef enum { VD_PTEST_PASSED, VD_PTEST_FAILED, VD_PTEST_ERROR } vd_ptest_status_t;

typedef struct vd_ptest_result {
    const vd_ptest_case_t *c;
    vd_ptest_status_t status;
    double seconds;
    const char *report; /* failed or error: what went wrong, as lines indented by two spaces */
    const char *first;  /* the first failure, or the error, on one line */
} vd_ptest_result_t;

typedef struct vd_ptest_run {
    vd_ptest_suite_t suite;
    vd_arena_t arena;
    vd_vec_t results;        /* vd_ptest_result_t of the cases that ran, in the suite's order */
    vd_ptest_coverage_t cov; /* the rules each pipeline has, and whether a case fired them */
    vd_lint_report_t lint;   /* what verdictd --check's lint says of the policies */
    size_t passed, failed, errors, unselected;
    double seconds;
} vd_ptest_run_t;

/* Loads the policies of cfg->dir, reads its test files and runs the cases cfg->run selects.
 * Returns 0 with the outcomes in run (a test file that could not be read is kept, with its
 * error, in run->suite.files), or with err: VD_EPOLICY (the policies do not load, the error
 * names the file and line), VD_ENOTFOUND (no test file), VD_EINVAL (cfg->run is no regular
 * expression), VD_EIO or VD_ENOMEM. Free run with vd_ptest_run_free in every case. */
int vd_ptest_run(vd_ptest_run_t *run, const vd_ptest_config_t *cfg, char *err, size_t errlen);

void vd_ptest_run_free(vd_ptest_run_t *run);

#endif
