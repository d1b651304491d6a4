/* verdict.list: list files shared by every worker, reloaded on change. */
#ifndef VD_LUA_LISTS_H
#define VD_LUA_LISTS_H

#include <lua.h>

#include <stddef.h>

/* Registry field: the lists opened while the policy loaded, in order, each a record
 * {file = s, line = n, path = s} of where it was opened; the field "lists" holds a table with
 * weak values where [i] is the list of record i for as long as something refers to it. The policy
 * lint reads it to name lists no rule uses. */
#define VD_LUA_LIST_DECLS "verdict.list_decls"

/* True when the list (the memory of a verdict.list userdata) has s, as list:has(s). */
int vd_lua_list_contains(const void *list, const char *s, size_t len);

/* Adds the functions to the verdict table on top. */
void vd_lua_open_lists(lua_State *L);

#endif
