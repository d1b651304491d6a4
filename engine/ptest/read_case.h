/* A case's table, `test "name" { pipeline = ..., event = ..., expect = ... }`, read into a
 * vd_ptest_case_t: its keys checked, its event packed as msgpack, its state seeds and list
 * changes read. */
#ifndef VD_PTEST_READ_CASE_H
#define VD_PTEST_READ_CASE_H

#include "case.h"
#include "reader.h"

#include <lua.h>

/* Reads the case table at idx into c (whose name, file and line the caller set); raises a Lua
 * error naming the file, line and case on a problem. */
void vd_ptest_read_case(lua_State *L, vd_ptest_reader_t *r, vd_ptest_case_t *c, int idx);

/* Sets the lines of c's keys and expectations, found in the file's text between the case's
 * line and line to (0: the end of the file). */
void vd_ptest_locate_case(const vd_ptest_reader_t *r, vd_ptest_case_t *c, int to);

#endif
