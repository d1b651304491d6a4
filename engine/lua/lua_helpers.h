/* verdict.lower, trim, email_domain, email_local, header, count, entropy. */
#ifndef VD_LUA_HELPERS_H
#define VD_LUA_HELPERS_H

#include <lua.h>

/* Adds the functions to the verdict table on top. */
void vd_lua_open_helpers(lua_State *L);

#endif
