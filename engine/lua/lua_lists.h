/* verdict.list: list files shared by every worker, reloaded on change. */
#ifndef VD_LUA_LISTS_H
#define VD_LUA_LISTS_H

#include <lua.h>

#include <stddef.h>

/* True when the list (the memory of a verdict.list userdata) has s, as list:has(s). */
int vd_lua_list_contains(const void *list, const char *s, size_t len);

/* Adds the functions to the verdict table on top. */
void vd_lua_open_lists(lua_State *L);

#endif
