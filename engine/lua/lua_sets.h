/* verdict.set, domains, lines: small sets built while policies load. */
#ifndef VD_LUA_SETS_H
#define VD_LUA_SETS_H

#include <lua.h>

/* Adds the functions to the verdict table on top. */
void vd_lua_open_sets(lua_State *L);

#endif
