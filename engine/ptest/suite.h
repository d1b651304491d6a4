/* The test files of a policy directory (`*_test.lua`, beside the policies) read into cases.
 * A test file runs in a sandbox like a policy's (no io, os or require; a memory cap and an
 * instruction budget) with three globals of its own: test "name" { ... } declares a case,
 * merge(a, b, ...) copies tables over one another (helpers that build a base event) and
 * absent stands for "no such field" in merge and in expected features. */
#ifndef VD_PTEST_SUITE_H
#define VD_PTEST_SUITE_H

#include "base/arena.h"
#include "base/vec.h"
#include "case.h"

#include <stddef.h>
#include <stdint.h>

typedef struct vd_ptest_file {
    const char *path;  /* as reached from the directory given */
    const char *error; /* "file:line: message" when it could not be read; else NULL */
    size_t first;      /* where its cases start in the suite's list */
} vd_ptest_file_t;

typedef struct vd_ptest_suite {
    vd_arena_t arena;
    vd_vec_t files;       /* vd_ptest_file_t, in path order */
    vd_vec_t cases;       /* vd_ptest_case_t, file after file */
    const char *data_dir; /* verdict.data_dir as test files see it; NULL: "data" */
    int64_t instr_limit;  /* Lua instructions a test file may run; 0: 100,000,000 */
} vd_ptest_suite_t;

void vd_ptest_suite_init(vd_ptest_suite_t *s);
void vd_ptest_suite_close(vd_ptest_suite_t *s);

/* Finds the test files below dir (walked as the policy loader walks it: hidden entries
 * skipped, links followed) and reads each in path order. Returns 0, with each file's error
 * kept in its vd_ptest_file_t; VD_EIO when dir cannot be read, with err; or VD_ENOMEM. */
int vd_ptest_suite_read_dir(vd_ptest_suite_t *s, const char *dir, char *err, size_t errlen);

/* Reads the text of one test file, named display in messages; a case's pipeline defaults to
 * the file's name without `_test.lua`. Returns 0 (the file's error, if any, is kept in its
 * vd_ptest_file_t) or VD_ENOMEM. */
int vd_ptest_suite_read_text(vd_ptest_suite_t *s, const char *display, const char *text,
                             size_t len);

#endif
