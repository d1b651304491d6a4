/* What the engine needs from the Lua bindings beyond registering them (see state.h). */
#ifndef VD_LUA_BINDINGS_H
#define VD_LUA_BINDINGS_H

#include <lua.h>
#include <msgpack.h>

/* Pushes a read-only view of the event; valid until the state's generation changes. */
void vd_lua_push_event(lua_State *L, const msgpack_object *event);

/* Pushes a msgpack value: scalars as Lua values, maps and arrays as read-only views. */
void vd_lua_push_value(lua_State *L, const msgpack_object *o);

/* The msgpack object behind a view at idx, or NULL when idx is not a view. Raises a Lua error
 * when the view outlived its request. */
const msgpack_object *vd_lua_to_view(lua_State *L, int idx);

struct vd_state_op;

/* Pushes the results of a state operation a rule waited for (or of its fallback when it
 * failed) and frees it; returns how many. Raises a Lua error when out of memory. */
int vd_lua_push_state_op(lua_State *L, struct vd_state_op *op);

/* Pushes the reusable ctx object handed to rules. */
void vd_lua_push_ctx(lua_State *L);

#endif
