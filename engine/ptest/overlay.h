/* The policy directory copied with a case's list files changed (lists = { ... } in a case).
 * A list file is loaded once per process and shared by its path, so a case that changes one
 * loads the policy from a copy, in a temporary directory, where the list is another file. */
#ifndef VD_PTEST_OVERLAY_H
#define VD_PTEST_OVERLAY_H

#include "case.h"

#include <limits.h>
#include <stddef.h>

/* Copies dir (without its test files and hidden entries) into a new temporary directory, named
 * in out, and changes the list files there as c says. Returns 0; VD_ENOTFOUND when a list c
 * names is no file of dir, with *bad its index in c->lists; or VD_EIO with err. Remove the
 * copy with vd_ptest_overlay_remove in every case (out is "" when nothing was made). */
int vd_ptest_overlay_make(const char *dir, const vd_ptest_case_t *c, char out[PATH_MAX],
                          size_t *bad, char *err, size_t errlen);

/* Removes a copy made by vd_ptest_overlay_make (nothing when path is ""). */
void vd_ptest_overlay_remove(const char *path);

#endif
