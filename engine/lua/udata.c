#include "udata.h"

#include "state.h"

#include <lauxlib.h>

static const char *const names[] = {
#define VD_UDATA_NAME(e, name) name,
    VD_UDATA_TYPES(VD_UDATA_NAME)
#undef VD_UDATA_NAME
};

void vd_udata_newtype(lua_State *L, vd_udata_t t) {
    luaL_newmetatable(L, names[t]);
    lua_pushstring(L, names[t]);
    lua_setfield(L, -2, "__metatable");
    lua_pushvalue(L, -1);
    vd_lua_ls(L)->udata_mt[t] = luaL_ref(L, LUA_REGISTRYINDEX);
}

void vd_udata_set(lua_State *L, vd_udata_t t) {
    lua_rawgeti(L, LUA_REGISTRYINDEX, vd_lua_ls(L)->udata_mt[t]);
    lua_setmetatable(L, -2);
}

void *vd_udata_new(lua_State *L, vd_udata_t t, size_t size, int nuv) {
    void *p = lua_newuserdatauv(L, size, nuv);
    vd_udata_set(L, t);
    return p;
}

void *vd_udata_test(lua_State *L, int idx, vd_udata_t t) {
    void *p = lua_touserdata(L, idx);
    if (!p || !lua_getmetatable(L, idx)) return NULL;
    lua_rawgeti(L, LUA_REGISTRYINDEX, vd_lua_ls(L)->udata_mt[t]);
    int same = lua_rawequal(L, -1, -2);
    lua_pop(L, 2);
    return same ? p : NULL;
}

void *vd_udata_check(lua_State *L, int idx, vd_udata_t t) {
    void *p = vd_udata_test(L, idx, t);
    if (!p) luaL_typeerror(L, idx, names[t]);
    return p;
}
