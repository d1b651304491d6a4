/* verdict.re: PCRE2 regular expressions with a match limit. */
#ifndef VD_LUA_RE_H
#define VD_LUA_RE_H

#include <lua.h>

/* Adds the functions to the verdict table on top. */
void vd_lua_open_re(lua_State *L);

#endif
