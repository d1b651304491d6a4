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

/* Registers the view metatable; expects the verdict table on top. */
void vd_lua_open_view(lua_State *L);

#endif
