/* verdict.list: list files shared by every worker, reloaded on change. */
#ifndef VD_LUA_LISTS_H
#define VD_LUA_LISTS_H

#include <lua.h>

/* Adds the functions to the verdict table on top. */
void vd_lua_open_lists(lua_State *L);

#endif
