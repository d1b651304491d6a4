/* Read-only tables. After a policy loads, every table it built is reached through a proxy: an
 * empty table whose metatable reads from the original and refuses writes. The base library's
 * raw functions (rawget, rawset, rawlen, next, getmetatable, setmetatable) are replaced by
 * versions that see through proxies for reading and never write through them, so nothing a
 * rule calls can change what the next request sees. */
#ifndef VD_LUA_READONLY_H
#define VD_LUA_READONLY_H

#include <lua.h>

/* Replaces the raw functions of the global table with their proxy-aware versions; done when
 * the state is made, so that load time and run time share one set of rules. */
void vd_lua_open_readonly(lua_State *L);

/* Pushes a proxy of the table at idx. Its metatable is left unfinished: it reads from the
 * original and refuses writes, and vd_lua_readonly_finish copies the original's metamethods
 * once every value they refer to has its proxy. */
void vd_lua_readonly_new(lua_State *L, int idx);

/* Completes the proxy at idx: the original's metamethods (other than __index, __newindex and
 * __gc) are copied to the proxy's metatable, mapped through map (a table original -> proxy at
 * map_idx), and getmetatable of the proxy gives the proxy of the original's metatable. */
void vd_lua_readonly_finish(lua_State *L, int idx, int map_idx);

/* The proxy at idx is of a table whose metatable the engine set (the global table: its
 * __index only raises "undefined global"): reads go to the original directly, the fast way,
 * and writes raise on_write (which names globals in its message). */
void vd_lua_readonly_engine_table(lua_State *L, int idx, lua_CFunction on_write);

/* 1 when the table at idx is one of the engine's own read-only objects (event views, ctx),
 * which guard themselves: their metatable is protected with a "verdict." name. */
int vd_lua_is_engine_object(lua_State *L, int idx);

/* 1 when the value at idx is a read-only proxy. */
int vd_lua_is_readonly(lua_State *L, int idx);

/* Pushes the original table of the read-only proxy at idx and returns 1; returns 0 and pushes
 * nothing for any other value. For the engine's own readers of a loaded policy (the lint). */
int vd_lua_readonly_original(lua_State *L, int idx);

/* Pushes the position "file:line: " of the innermost Lua function running (or ""). */
void vd_lua_where(lua_State *L);

#endif
