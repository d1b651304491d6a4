/* verdict.set, domains, lines: small sets built while policies load. */
#ifndef VD_LUA_SETS_H
#define VD_LUA_SETS_H

#include <lua.h>

#include <stddef.h>

/* True when the set (the memory of a verdict.set or verdict.domains userdata) holds s, or for a
 * domain set, s or one of its parent domains. Makes no Lua strings. */
int vd_lua_set_contains(const void *set, const char *s, size_t len);

/* Adds the functions to the verdict table on top. */
void vd_lua_open_sets(lua_State *L);

#endif
