/* The userdata types the bindings create, one list. Each type's metatable is kept in the
 * registry under an integer reference, so that making and checking a userdata compares
 * metatables by identity instead of looking a name up as a string on every call. */
#ifndef VD_LUA_UDATA_H
#define VD_LUA_UDATA_H

#include <lua.h>
#include <stddef.h>

/* X(ENUM, "name shown in errors and by getmetatable") */
#define VD_UDATA_TYPES(X)                                                                          \
    X(FEATURES, "verdict.features")                                                                \
    X(SET, "verdict.set")                                                                          \
    X(CIDRS, "verdict.cidrs")                                                                      \
    X(RE, "verdict.re")                                                                            \
    X(LIST, "verdict.list")                                                                        \
    X(COND, "verdict.condition")                                                                   \
    X(CAMPAIGN, "verdict.campaign")

typedef enum {
#define VD_UDATA_ENUM(e, name) VD_UDATA_##e,
    VD_UDATA_TYPES(VD_UDATA_ENUM)
#undef VD_UDATA_ENUM
        VD_UDATA__COUNT
} vd_udata_t;

/* Creates the metatable of type t (with __metatable set to its name), remembers it, and
 * leaves it on the stack for the caller to fill. */
void vd_udata_newtype(lua_State *L, vd_udata_t t);

/* Pushes a new userdata of type t with size bytes and nuv user values; returns its memory. */
void *vd_udata_new(lua_State *L, vd_udata_t t, size_t size, int nuv);

/* Gives the userdata on top of the stack the metatable of type t. */
void vd_udata_set(lua_State *L, vd_udata_t t);

/* The userdata at idx when it is of type t, else NULL. */
void *vd_udata_test(lua_State *L, int idx, vd_udata_t t);

/* The userdata at idx, or a Lua error naming the type expected. */
void *vd_udata_check(lua_State *L, int idx, vd_udata_t t);

#endif
