/* A case's `expect = { ... }` table read into a vd_ptest_expect_t. */
#ifndef VD_PTEST_READ_EXPECT_H
#define VD_PTEST_READ_EXPECT_H

#include "case.h"
#include "reader.h"

#include <lua.h>

/* Reads the expectations at idx into e; raises a Lua error naming the file, line and case on
 * a problem. */
void vd_ptest_read_expect(lua_State *L, vd_ptest_reader_t *r, vd_ptest_expect_t *e, int idx);

/* Sets the lines of e's keys and names, found in the file's text from line from (the case's)
 * up to line to (0: the end of the file). */
void vd_ptest_locate_expect(const vd_ptest_reader_t *r, vd_ptest_expect_t *e, int from, int to);

#endif
