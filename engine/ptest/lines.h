/* Where something is written in a test file. Lua tells the line of a call (`test "name"`) but
 * not of a key inside a table, so the keys of a case are found in its text: the first line,
 * from the case's own, that assigns the key. Cases built by helper functions may not spell
 * their keys out; then the nearest line found (the case's, at worst) stands in. */
#ifndef VD_PTEST_LINES_H
#define VD_PTEST_LINES_H

#include <stddef.h>

/* The first line in [from, to) of src (lines count from 1; to 0: to the end) that assigns key
 * (`key =` or `["key"] =`, outside a `--` comment), or 0. */
int vd_ptest_line_of_key(const char *src, size_t len, int from, int to, const char *key);

/* The first line in [from, to) of src holding the string s quoted ("s" or 's'), or 0. */
int vd_ptest_line_of_string(const char *src, size_t len, int from, int to, const char *s);

#endif
