#include "readonly.h"

#include "lua_view.h"

#include <lauxlib.h>
#include <string.h>

/* Keys of a proxy's metatable that Lua code cannot name: the original table, and what
 * getmetatable shows for the proxy. */
static const char original_key = 0, visible_key = 0;
/* Registry key of the metatables made for setmetatable(t, proxy), one per proxy. */
static const char mt_copies_key = 0;

void vd_lua_where(lua_State *L) {
    lua_Debug ar;
    for (int level = 1; lua_getstack(L, level, &ar); level++) {
        lua_getinfo(L, "Sl", &ar);
        if (ar.currentline > 0) {
            lua_pushfstring(L, "%s:%d: ", ar.short_src, ar.currentline);
            return;
        }
    }
    lua_pushliteral(L, "");
}

/* Pushes the original of the proxy at idx and returns 1; returns 0 (nothing pushed) for
 * anything else. */
static int push_original(lua_State *L, int idx) {
    if (lua_type(L, idx) != LUA_TTABLE || !lua_getmetatable(L, idx)) return 0;
    if (lua_rawgetp(L, -1, &original_key) == LUA_TTABLE) {
        lua_remove(L, -2);
        return 1;
    }
    lua_pop(L, 2);
    return 0;
}

int vd_lua_readonly_original(lua_State *L, int idx) {
    return push_original(L, idx);
}

int vd_lua_is_readonly(lua_State *L, int idx) {
    if (!push_original(L, idx)) return 0;
    lua_pop(L, 1);
    return 1;
}

static int readonly_write(lua_State *L) {
    vd_lua_where(L);
    lua_pushfstring(L,
                    "tables the policy built while loading are read-only when rules run "
                    "(setting '%s'); keep per-request values in locals or ctx:set, lasting ones "
                    "in verdict state",
                    luaL_tolstring(L, 2, NULL));
    lua_remove(L, -2);
    lua_concat(L, 2);
    return lua_error(L);
}

static int readonly_len(lua_State *L) {
    push_original(L, 1);
    lua_pushinteger(L, (lua_Integer)lua_rawlen(L, -1));
    return 1;
}

/* next, seeing through proxies: the original's entries already hold proxies of their own. */
static int guarded_next(lua_State *L) {
    luaL_checktype(L, 1, LUA_TTABLE);
    lua_settop(L, 2);
    if (push_original(L, 1)) lua_replace(L, 1);
    if (lua_next(L, 1)) return 2;
    lua_pushnil(L);
    return 1;
}

static int readonly_pairs(lua_State *L) {
    lua_pushcfunction(L, guarded_next);
    lua_pushvalue(L, 1);
    lua_pushnil(L);
    return 3;
}

static int guarded_rawget(lua_State *L) {
    luaL_checktype(L, 1, LUA_TTABLE);
    luaL_checkany(L, 2);
    lua_settop(L, 2);
    if (push_original(L, 1)) lua_replace(L, 1);
    lua_rawget(L, 1);
    return 1;
}

static int guarded_rawlen(lua_State *L) {
    int t = lua_type(L, 1);
    luaL_argexpected(L, t == LUA_TTABLE || t == LUA_TSTRING, 1, "table or string");
    if (push_original(L, 1)) lua_replace(L, 1);
    lua_pushinteger(L, (lua_Integer)lua_rawlen(L, 1));
    return 1;
}

int vd_lua_is_engine_object(lua_State *L, int idx) {
    if (!lua_getmetatable(L, idx)) return 0;
    lua_pushliteral(L, "__metatable"); /* raw: no policy code may run here (the freeze) */
    int is = lua_rawget(L, -2) == LUA_TSTRING && strncmp(lua_tostring(L, -1), "verdict.", 8) == 0;
    lua_pop(L, 2);
    return is;
}

/* rawset, except into proxies and the engine's read-only objects: a raw write would put a
 * value in front of what the proxy reads, or into what later rules (live ones, other requests)
 * see. */
static int guarded_rawset(lua_State *L) {
    luaL_checktype(L, 1, LUA_TTABLE);
    luaL_checkany(L, 2);
    luaL_checkany(L, 3);
    if (vd_lua_is_view(L, 1)) return luaL_error(L, "the event is read-only");
    if (vd_lua_is_engine_object(L, 1))
        return luaL_error(L, "ctx is read-only; use ctx:set(name, value) for features");
    if (vd_lua_is_readonly(L, 1)) return readonly_write(L);
    lua_settop(L, 3);
    lua_rawset(L, 1);
    return 1;
}

/* getmetatable: a proxy shows its original's metatable (as a proxy), never its own. */
static int guarded_getmetatable(lua_State *L) {
    luaL_checkany(L, 1);
    if (vd_lua_is_readonly(L, 1)) {
        lua_getmetatable(L, 1);
        lua_rawgetp(L, -1, &visible_key);
        return 1;
    }
    if (!lua_getmetatable(L, 1)) {
        lua_pushnil(L);
        return 1;
    }
    luaL_getmetafield(L, 1, "__metatable");
    return 1;
}

/* The metatable to install for setmetatable(t, proxy): a plain copy of the original's fields
 * (a metatable is read raw by the VM, so the proxy itself cannot serve), made once per proxy
 * and hidden behind __metatable so that it cannot be changed either. */
static void push_metatable_copy(lua_State *L, int proxy) {
    lua_rawgetp(L, LUA_REGISTRYINDEX, &mt_copies_key);
    if (lua_isnil(L, -1)) {
        lua_pop(L, 1);
        lua_newtable(L);
        lua_pushvalue(L, -1);
        lua_rawsetp(L, LUA_REGISTRYINDEX, &mt_copies_key);
    }
    if (lua_pushvalue(L, proxy), lua_rawget(L, -2) == LUA_TTABLE) {
        lua_remove(L, -2);
        return;
    }
    lua_pop(L, 1);
    lua_newtable(L);
    push_original(L, proxy);
    lua_pushnil(L);
    while (lua_next(L, -2)) {
        lua_pushvalue(L, -2);
        lua_insert(L, -2);
        lua_rawset(L, -5);
    }
    lua_pop(L, 1);
    if (lua_getfield(L, -1, "__metatable") == LUA_TNIL) {
        lua_pushvalue(L, proxy);
        lua_setfield(L, -3, "__metatable");
    }
    lua_pop(L, 1);
    lua_pushvalue(L, proxy);
    lua_pushvalue(L, -2);
    lua_rawset(L, -4);
    lua_remove(L, -2);
}

/* setmetatable, without finalizers (a __gc function would run outside any rule's budget,
 * whenever the collector gets to it) and accepting read-only metatables. */
static int guarded_setmetatable(lua_State *L) {
    luaL_checktype(L, 1, LUA_TTABLE);
    int t = lua_type(L, 2);
    luaL_argexpected(L, t == LUA_TNIL || t == LUA_TTABLE, 2, "nil or table");
    lua_settop(L, 2);
    if (t == LUA_TTABLE && vd_lua_is_readonly(L, 2)) {
        push_metatable_copy(L, 2);
        lua_replace(L, 2);
    }
    if (t == LUA_TTABLE && (lua_pushliteral(L, "__gc"), lua_rawget(L, 2)) != LUA_TNIL)
        return luaL_error(L, "metatables with __gc are not allowed in policies: a finalizer "
                             "would run outside the rule that made it");
    if (luaL_getmetafield(L, 1, "__metatable") != LUA_TNIL)
        return luaL_error(L, "cannot change a protected metatable");
    lua_settop(L, 2);
    lua_setmetatable(L, 1);
    return 1;
}

void vd_lua_open_readonly(lua_State *L) {
    static const luaL_Reg fns[] = {{"next", guarded_next},
                                   {"rawget", guarded_rawget},
                                   {"rawset", guarded_rawset},
                                   {"rawlen", guarded_rawlen},
                                   {"getmetatable", guarded_getmetatable},
                                   {"setmetatable", guarded_setmetatable},
                                   {NULL, NULL}};
    lua_pushglobaltable(L);
    luaL_setfuncs(L, fns, 0);
    lua_pop(L, 1);
}

void vd_lua_readonly_new(lua_State *L, int idx) {
    idx = lua_absindex(L, idx);
    lua_newtable(L);
    lua_createtable(L, 0, 6);
    lua_pushvalue(L, idx);
    lua_rawsetp(L, -2, &original_key);
    lua_pushvalue(L, idx);
    lua_setfield(L, -2, "__index");
    static const luaL_Reg reads_only[] = {{"__newindex", readonly_write},
                                          {"__len", readonly_len},
                                          {"__pairs", readonly_pairs},
                                          {NULL, NULL}};
    luaL_setfuncs(L, reads_only, 0);
    lua_pushboolean(L, 0); /* protected: setmetatable refuses, C code sees no metatable */
    lua_setfield(L, -2, "__metatable");
    lua_setmetatable(L, -2);
}

/* __index of a proxy whose original has an __index function: that function must get the
 * proxy as its table, never the original (which it could then write to, or hand out). */
static int proxy_index(lua_State *L) {
    lua_settop(L, 2);
    push_original(L, 1);
    lua_pushvalue(L, 2);
    if (lua_rawget(L, 3) != LUA_TNIL) return 1;
    lua_pop(L, 1);
    lua_getmetatable(L, 3);
    lua_pushliteral(L, "__index");
    if (lua_rawget(L, -2) == LUA_TFUNCTION) {
        lua_pushvalue(L, 1);
        lua_pushvalue(L, 2);
        lua_call(L, 2, 1);
        return 1;
    }
    lua_pushvalue(L, 2);
    lua_gettable(L, -2);
    return 1;
}

/* The value at idx mapped through the table at map: its proxy when it has one. */
static void push_mapped(lua_State *L, int idx, int map) {
    idx = lua_absindex(L, idx);
    lua_pushvalue(L, idx);
    if (lua_type(L, -1) != LUA_TTABLE) return;
    if (lua_rawget(L, map) == LUA_TTABLE) return;
    lua_pop(L, 1);
    lua_pushvalue(L, idx);
}

void vd_lua_readonly_finish(lua_State *L, int idx, int map_idx) {
    idx = lua_absindex(L, idx);
    map_idx = lua_absindex(L, map_idx);
    lua_getmetatable(L, idx); /* the proxy's */
    int pm = lua_gettop(L);
    lua_rawgetp(L, pm, &original_key);
    if (!lua_getmetatable(L, -1)) {
        lua_pop(L, 2);
        return;
    }
    int mt = lua_gettop(L);
    /* What getmetatable shows: the original's __metatable field, else its metatable frozen. */
    lua_pushliteral(L, "__metatable");
    if (lua_rawget(L, mt) == LUA_TNIL) {
        lua_pop(L, 1);
        lua_pushvalue(L, mt);
    }
    push_mapped(L, -1, map_idx);
    lua_rawsetp(L, pm, &visible_key);
    lua_pop(L, 1);
    lua_pushliteral(L, "__index");
    if (lua_rawget(L, mt) == LUA_TFUNCTION) {
        lua_pushcfunction(L, proxy_index);
        lua_setfield(L, pm, "__index");
    }
    lua_pop(L, 1);
    lua_pushnil(L);
    while (lua_next(L, mt)) {
        const char *k = lua_type(L, -2) == LUA_TSTRING ? lua_tostring(L, -2) : NULL;
        int skip = !k || strncmp(k, "__", 2) != 0 || strcmp(k, "__index") == 0 ||
                   strcmp(k, "__newindex") == 0 || strcmp(k, "__gc") == 0 ||
                   strcmp(k, "__metatable") == 0 || strcmp(k, "__mode") == 0;
        if (!skip) {
            push_mapped(L, -1, map_idx);
            lua_setfield(L, pm, k);
        }
        lua_pop(L, 1);
    }
    lua_settop(L, pm - 1);
}

void vd_lua_readonly_engine_table(lua_State *L, int idx, lua_CFunction on_write) {
    lua_getmetatable(L, idx);
    lua_pushcfunction(L, on_write);
    lua_setfield(L, -2, "__newindex");
    lua_rawgetp(L, -1, &original_key);
    lua_setfield(L, -2, "__index");
    lua_pop(L, 1);
}
