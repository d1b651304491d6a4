/* verdict.when: conditions declared instead of written, for the shapes rules take most often
 * ("this field matches this regex", "this field is in this list", "the domain of this address
 * is in this list"). A rule whose `when` is one of them is decided in C without entering the
 * Lua interpreter; called from Lua, a condition answers as a when function would. */
#ifndef VD_LUA_WHEN_H
#define VD_LUA_WHEN_H

#include <lua.h>
#include <msgpack.h>
#include <stddef.h>

struct vd_cond;

/* The condition at idx of L, or NULL when the value is not one. */
const struct vd_cond *vd_lua_to_cond(lua_State *L, int idx);

/* Decides cond (the value at idx of L) over event. Returns 1 when it holds, with the detail
 * in *detail and *dlen (pointing into buf, cap bytes, or into the event), 0 when it does not, or
 * -1 with a message in err (a regular expression over its match limit). */
int vd_lua_cond_eval(lua_State *L, int idx, const msgpack_object *event, char *buf, size_t cap,
                     const char **detail, size_t *dlen, char *err, size_t errlen);

/* Adds verdict.when to the verdict table on top. */
void vd_lua_open_when(lua_State *L);

#endif
