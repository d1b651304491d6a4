/* verdict.view: read-only, lazy access to the msgpack event of the current request.
 *
 * A view is an empty table whose metatable sends reads to a cache table: a field is converted
 * from msgpack (once per request) the first time a rule reads it, by the cache's own __index,
 * and every later read of it is a plain table read in the Lua VM. Writes find no field in the
 * empty table and are refused by __newindex (rawset refuses views, see state.c).
 *
 * A view kept past its request must not read: the msgpack buffer is freed with the reply, and
 * a later request must not see an earlier one's data. So each request lists the metatables of
 * its views, and when it ends, or waits for Redis while others run, their __index is pointed
 * at a table whose every read raises; when a waiting request resumes, they are pointed back. */
#include "lua_view.h"

#include "proto/rpc.h"
#include "state.h"

#include <lauxlib.h>
#include <string.h>

/* Keys no rule can make (light userdata): where metatables and caches keep what C needs. */
static const char KEY_OBJ;   /* metatable and cache: the msgpack object (light userdata) */
static const char KEY_CACHE; /* metatable: its cache table */

#define POOL_MAX 64 /* view metatables kept for reuse */

static int stale(lua_State *L) {
    return luaL_error(L, "event data used after its request ended (do not keep it in upvalues)");
}

static int read_only(lua_State *L) {
    return luaL_error(L, "the event is read-only; use ctx:set(name, value) for features");
}

static uint32_t entries(const msgpack_object *o) {
    return o->type == MSGPACK_OBJECT_ARRAY ? o->via.array.size : o->via.map.size;
}

/* The msgpack object of the view at idx, or NULL when idx is not a view. Raises when the
 * view is not live (its request ended or waits). */
static const msgpack_object *view_object(lua_State *L, int idx) {
    if (lua_type(L, idx) != LUA_TTABLE || !lua_getmetatable(L, idx)) return NULL;
    if (lua_rawgetp(L, -1, &KEY_OBJ) == LUA_TLIGHTUSERDATA) {
        const msgpack_object *o = lua_touserdata(L, -1);
        lua_pop(L, 2);
        return o;
    }
    lua_pop(L, 1);
    lua_rawgeti(L, LUA_REGISTRYINDEX, vd_lua_ls(L)->view_stale);
    int is_stale = lua_rawequal(L, -1, -2);
    lua_pop(L, 2);
    if (is_stale) stale(L);
    return NULL;
}

static void push_view(lua_State *L, const msgpack_object *o);

/* The cache's __index (cache, key): converts the field once and keeps it in the cache. */
static int load_field(lua_State *L) {
    lua_rawgetp(L, 1, &KEY_OBJ);
    const msgpack_object *o = lua_touserdata(L, -1);
    lua_pop(L, 1);
    const msgpack_object *hit = NULL;
    if (!o) return 0;
    if (o->type == MSGPACK_OBJECT_ARRAY) {
        int isnum;
        lua_Integer i = lua_tointegerx(L, 2, &isnum);
        if (isnum && i >= 1 && (uint64_t)i <= o->via.array.size) hit = &o->via.array.ptr[i - 1];
    } else if (lua_type(L, 2) == LUA_TSTRING) {
        size_t len;
        const char *key = lua_tolstring(L, 2, &len);
        hit = vd_rpc_map_get(o, key, len, 0);
    }
    if (!hit) return 0; /* absent: nil, and nothing to keep */
    vd_lua_push_value(L, hit);
    lua_pushvalue(L, 2);
    lua_pushvalue(L, -2);
    lua_rawset(L, 1);
    return 1;
}

static int view_len(lua_State *L) {
    lua_pushinteger(L, entries(view_object(L, 1)));
    return 1;
}

/* Iterator closure: upvalue 1 is the view, upvalue 2 the next position. */
static int view_iter(lua_State *L) {
    const msgpack_object *o = view_object(L, lua_upvalueindex(1));
    lua_Integer pos = lua_tointeger(L, lua_upvalueindex(2));
    if (pos >= entries(o)) return 0;
    lua_pushinteger(L, pos + 1);
    lua_replace(L, lua_upvalueindex(2));
    if (o->type == MSGPACK_OBJECT_ARRAY) {
        lua_pushinteger(L, pos + 1);
        vd_lua_push_value(L, &o->via.array.ptr[pos]);
    } else {
        vd_lua_push_value(L, &o->via.map.ptr[pos].key);
        vd_lua_push_value(L, &o->via.map.ptr[pos].val);
    }
    return 2;
}

static int view_pairs(lua_State *L) {
    view_object(L, 1);
    lua_pushvalue(L, 1);
    lua_pushinteger(L, 0);
    lua_pushcclosure(L, view_iter, 2);
    return 1;
}

static int view_tostring(lua_State *L) {
    const msgpack_object *o = view_object(L, 1);
    lua_pushfstring(L, "event %s (%d entries)", o->type == MSGPACK_OBJECT_ARRAY ? "array" : "map",
                    (int)entries(o));
    return 1;
}

/* A metatable for a new view (from the pool when it has one). */
static void push_metatable(lua_State *L) {
    vd_lstate_t *ls = vd_lua_ls(L);
    lua_rawgeti(L, LUA_REGISTRYINDEX, ls->view_pool);
    lua_Integer n = (lua_Integer)lua_rawlen(L, -1);
    if (n > 0) {
        lua_rawgeti(L, -1, n);
        lua_pushnil(L);
        lua_rawseti(L, -3, n);
        lua_remove(L, -2);
        return;
    }
    lua_pop(L, 1);
    lua_createtable(L, 0, 7);
    static const luaL_Reg mt[] = {{"__newindex", read_only},
                                  {"__len", view_len},
                                  {"__pairs", view_pairs},
                                  {"__tostring", view_tostring},
                                  {NULL, NULL}};
    luaL_setfuncs(L, mt, 0);
    lua_pushliteral(L, "verdict.view");
    lua_setfield(L, -2, "__metatable");
}

/* A new cache for the metatable on top, sized for n entries: a new table costs less than
 * emptying an old one. */
static void new_cache(lua_State *L, const msgpack_object *o) {
    vd_lstate_t *ls = vd_lua_ls(L);
    uint32_t n = entries(o);
    if (o->type == MSGPACK_OBJECT_ARRAY)
        lua_createtable(L, (int)n, 1);
    else
        lua_createtable(L, 0, (int)n + 1);
    lua_pushlightuserdata(L, (void *)o);
    lua_rawsetp(L, -2, &KEY_OBJ);
    lua_rawgeti(L, LUA_REGISTRYINDEX, ls->view_cache_mt);
    lua_setmetatable(L, -2);
    lua_pushvalue(L, -1);
    lua_rawsetp(L, -3, &KEY_CACHE);
    lua_setfield(L, -2, "__index");
}

static void push_view(lua_State *L, const msgpack_object *o) {
    vd_lstate_t *ls = vd_lua_ls(L);
    lua_createtable(L, 0, 0); /* the view */
    push_metatable(L);
    lua_pushlightuserdata(L, (void *)o);
    lua_rawsetp(L, -2, &KEY_OBJ);
    new_cache(L, o);
    /* The running request's list: view, metatable, view, metatable, ... */
    lua_rawgeti(L, LUA_REGISTRYINDEX, ls->views);
    lua_Integer n = (lua_Integer)lua_rawlen(L, -1);
    lua_pushvalue(L, -3);
    lua_rawseti(L, -2, n + 1);
    lua_pushvalue(L, -2);
    lua_rawseti(L, -2, n + 2);
    lua_pop(L, 1);
    lua_setmetatable(L, -2);
}

void vd_lua_push_value(lua_State *L, const msgpack_object *o) {
    switch (o->type) {
    case MSGPACK_OBJECT_BOOLEAN:
        lua_pushboolean(L, o->via.boolean);
        break;
    case MSGPACK_OBJECT_POSITIVE_INTEGER:
        if (o->via.u64 <= INT64_MAX)
            lua_pushinteger(L, (lua_Integer)o->via.u64);
        else
            lua_pushnumber(L, (lua_Number)o->via.u64);
        break;
    case MSGPACK_OBJECT_NEGATIVE_INTEGER:
        lua_pushinteger(L, o->via.i64);
        break;
    case MSGPACK_OBJECT_FLOAT32:
    case MSGPACK_OBJECT_FLOAT64:
        lua_pushnumber(L, o->via.f64);
        break;
    case MSGPACK_OBJECT_STR:
        lua_pushlstring(L, o->via.str.ptr, o->via.str.size);
        break;
    case MSGPACK_OBJECT_BIN:
        lua_pushlstring(L, o->via.bin.ptr, o->via.bin.size);
        break;
    case MSGPACK_OBJECT_ARRAY:
    case MSGPACK_OBJECT_MAP:
        push_view(L, o);
        break;
    default:
        lua_pushnil(L);
        break;
    }
}

void vd_lua_push_event(lua_State *L, const msgpack_object *event) {
    push_view(L, event);
}

const msgpack_object *vd_lua_to_view(lua_State *L, int idx) {
    return view_object(L, idx);
}

int vd_lua_is_view(lua_State *L, int idx) {
    if (lua_type(L, idx) != LUA_TTABLE || !lua_getmetatable(L, idx)) return 0;
    int is = lua_rawgetp(L, -1, &KEY_OBJ) == LUA_TLIGHTUSERDATA;
    lua_pop(L, 1);
    if (!is) {
        lua_rawgeti(L, LUA_REGISTRYINDEX, vd_lua_ls(L)->view_stale);
        is = lua_rawequal(L, -1, -2);
        lua_pop(L, 1);
    }
    lua_pop(L, 1);
    return is;
}

/* Puts the metatable on top back in the pool; its cache goes with the request. */
static void recycle(lua_State *L) {
    vd_lstate_t *ls = vd_lua_ls(L);
    lua_pushnil(L);
    lua_rawsetp(L, -2, &KEY_OBJ);
    lua_rawgeti(L, LUA_REGISTRYINDEX, ls->view_pool);
    lua_Integer n = (lua_Integer)lua_rawlen(L, -1);
    if (n < POOL_MAX) {
        lua_pushvalue(L, -2);
        lua_rawseti(L, -2, n + 1);
    }
    lua_pop(L, 1);
}

/* For the list on top (view, metatable, ...): gives each view its metatable (live), or the
 * stale one; with end, also recycles the metatables and empties the list. */
static void point_views(lua_State *L, int live, int end) {
    vd_lstate_t *ls = vd_lua_ls(L);
    lua_Integer n = (lua_Integer)lua_rawlen(L, -1);
    for (lua_Integer i = 1; i + 1 <= n; i += 2) {
        lua_rawgeti(L, -1, i);
        if (live)
            lua_rawgeti(L, -2, i + 1);
        else
            lua_rawgeti(L, LUA_REGISTRYINDEX, ls->view_stale);
        if (lua_type(L, -1) == LUA_TTABLE && lua_type(L, -2) == LUA_TTABLE)
            lua_setmetatable(L, -2);
        else
            lua_pop(L, 1); /* a view left half made when memory ran out */
        lua_pop(L, 1);
        if (!end) continue;
        if (lua_rawgeti(L, -1, i + 1) == LUA_TTABLE) recycle(L);
        lua_pop(L, 1);
        lua_pushnil(L);
        lua_rawseti(L, -2, i);
        lua_pushnil(L);
        lua_rawseti(L, -2, i + 1);
    }
}

void vd_lua_views_enter(lua_State *L, int *saved) {
    if (*saved <= 0) return;
    vd_lstate_t *ls = vd_lua_ls(L);
    lua_rawgeti(L, LUA_REGISTRYINDEX, *saved);
    point_views(L, 1, 0);
    /* The resumed request's list is the running one until it leaves again. */
    lua_rawseti(L, LUA_REGISTRYINDEX, ls->views);
    luaL_unref(L, LUA_REGISTRYINDEX, *saved);
    *saved = 0;
}

/* The allocations of a waiting request's leave: a reference to its list, a new list for the
 * requests that run meanwhile. (list) -> ref */
static int keep_list(lua_State *L) {
    vd_lstate_t *ls = vd_lua_ls(L);
    lua_createtable(L, 4, 0);
    lua_pushvalue(L, 1);
    int ref = luaL_ref(L, LUA_REGISTRYINDEX);
    lua_rawseti(L, LUA_REGISTRYINDEX, ls->views);
    lua_pushinteger(L, ref);
    return 1;
}

void vd_lua_views_leave(lua_State *L, int *saved, int waiting) {
    vd_lstate_t *ls = vd_lua_ls(L);
    lua_rawgeti(L, LUA_REGISTRYINDEX, ls->views);
    if (waiting) { /* the list goes with the request; the next one starts a new list */
        lua_pushcfunction(L, keep_list);
        lua_pushvalue(L, -2);
        if (lua_pcall(L, 1, 1, 0) == LUA_OK) { /* at the memory cap: the views just end */
            *saved = (int)lua_tointeger(L, -1);
            lua_pop(L, 1);
            point_views(L, 0, 0);
            lua_pop(L, 1);
            return;
        }
        lua_pop(L, 1);
    }
    point_views(L, 0, 1);
    lua_pop(L, 1);
}

void vd_lua_open_view(lua_State *L) {
    vd_lstate_t *ls = vd_lua_ls(L);
    static const luaL_Reg dead[] = {{"__index", stale}, {"__newindex", stale}, {"__len", stale},
                                    {"__pairs", stale}, {"__tostring", stale}, {NULL, NULL}};
    lua_createtable(L, 0, 6); /* the metatable of views that are not live */
    luaL_setfuncs(L, dead, 0);
    lua_pushliteral(L, "verdict.view");
    lua_setfield(L, -2, "__metatable");
    ls->view_stale = luaL_ref(L, LUA_REGISTRYINDEX);
    lua_createtable(L, POOL_MAX, 0);
    ls->view_pool = luaL_ref(L, LUA_REGISTRYINDEX);
    lua_createtable(L, 0, 1); /* the caches' metatable */
    lua_pushcfunction(L, load_field);
    lua_setfield(L, -2, "__index");
    ls->view_cache_mt = luaL_ref(L, LUA_REGISTRYINDEX);
    lua_createtable(L, 4, 0);
    ls->views = luaL_ref(L, LUA_REGISTRYINDEX);
}
