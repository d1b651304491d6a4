/* Which upvalues of a Lua function its code can assign, itself or through the functions it
 * defines. The policy loader needs it to find file-level locals that rules could change at run
 * time; reading the compiled code at load is how that costs nothing per request. */
#ifndef VD_LUA_UPVALUE_WRITES_H
#define VD_LUA_UPVALUE_WRITES_H

#include <lua.h>
#include <stdint.h>

/* Bit i of written (i from 0, as lua_getupvalue's n - 1) is set when the Lua function at idx
 * can assign its upvalue i. Returns 0, or -1 when the function's code could not be read (a C
 * function, or a bytecode format this build does not know): then the caller must treat every
 * upvalue as written. */
int vd_lua_upvalue_writes(lua_State *L, int idx, uint8_t written[32]);

#endif
