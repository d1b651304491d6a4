/* verdict.counter, distinct, label, labeled: state for rules, embedded or in Redis. */
#ifndef VD_LUA_STORE_H
#define VD_LUA_STORE_H

#include <lua.h>

struct vd_state_op;

/* Pushes the results of a state operation a rule waited for (or of its fallback when it
 * failed) and frees it; returns how many. Raises a Lua error when out of memory. */
int vd_lua_push_state_op(lua_State *L, struct vd_state_op *op);

/* Notes in the decision that state fell back for why (once per reason and request). */
void vd_lua_note_state_fallback(lua_State *L, const char *why);

/* Adds the functions to the verdict table on top. */
void vd_lua_open_store(lua_State *L);

#endif
