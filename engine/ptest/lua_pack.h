/* Lua values of a test file packed as msgpack, as a service would send them: strings,
 * integers, floats, booleans, tables with keys 1..n as arrays and tables with string keys as
 * maps (an empty table is an empty map). */
#ifndef VD_PTEST_LUA_PACK_H
#define VD_PTEST_LUA_PACK_H

#include <lua.h>
#include <msgpack.h>
#include <stddef.h>

/* Packs the value at idx into pk. Returns 0, or -1 with err saying what cannot be packed and
 * where ("headers.Date: a function cannot be sent"); what was packed so far is then
 * incomplete. */
int vd_ptest_pack(lua_State *L, int idx, msgpack_packer *pk, char *err, size_t errlen);

#endif
