/* ctx: what a rule may do besides reading the event (features, tags, stop). */
#ifndef VD_LUA_CTX_H
#define VD_LUA_CTX_H

#include <lua.h>

/* Pushes the reusable ctx object handed to rules. */
void vd_lua_push_ctx(lua_State *L);

/* Creates the ctx object; expects the verdict table on top. */
void vd_lua_open_ctx(lua_State *L);

#endif
