/* verdict.view: read-only, lazy views of the event of the request being decided. */
#ifndef VD_LUA_VIEW_H
#define VD_LUA_VIEW_H

#include <lua.h>
#include <msgpack.h>

/* Pushes a read-only view of the event; valid until the state's generation changes. */
void vd_lua_push_event(lua_State *L, const msgpack_object *event);

/* Pushes a msgpack value: scalars as Lua values, maps and arrays as read-only views. */
void vd_lua_push_value(lua_State *L, const msgpack_object *o);

/* The msgpack object behind a view at idx, or NULL when idx is not a view. Raises a Lua error
 * when the view outlived its request. */
const msgpack_object *vd_lua_to_view(lua_State *L, int idx);

/* True when the value at idx is a view (rawset refuses to write into one). */
int vd_lua_is_view(lua_State *L, int idx);

/* A run of a request begins: when it had waited (*saved, 0 = it did not), the views it made
 * before read again, and *saved is 0 again. */
void vd_lua_views_enter(lua_State *L, int *saved);

/* A run of a request ends: the views it made stop reading. When it waits (for Redis), they
 * are kept in *saved for vd_lua_views_enter; otherwise they are forgotten. */
void vd_lua_views_leave(lua_State *L, int *saved, int waiting);

/* Prepares the views' tables; expects the verdict table on top. */
void vd_lua_open_view(lua_State *L);

#endif
