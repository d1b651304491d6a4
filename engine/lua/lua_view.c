/* verdict.view: read-only, lazy access to the msgpack event of the current request.
 * Values are converted only when a rule reads them; a view kept past its request is refused,
 * because the msgpack buffer it points into is freed with the reply. */
#include "lua_view.h"
#include "proto/rpc.h"
#include "state.h"

#include <lauxlib.h>
#include <string.h>

#define VIEW_MT "verdict.view"

typedef struct view {
    const msgpack_object *o; /* a map or an array */
    uint64_t gen;
} view_t;

static void push_view(lua_State *L, const msgpack_object *o) {
    view_t *v = lua_newuserdatauv(L, sizeof *v, 0);
    v->o = o;
    v->gen = vd_lua_ls(L)->gen;
    luaL_setmetatable(L, VIEW_MT);
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

static const view_t *check_view(lua_State *L, int idx) {
    const view_t *v = luaL_checkudata(L, idx, VIEW_MT);
    vd_lstate_t *ls = vd_lua_ls(L);
    if (v->gen != ls->gen || !ls->exec)
        luaL_error(L, "event data used after its request ended (do not keep it in upvalues)");
    return v;
}

static int view_index(lua_State *L) {
    const view_t *v = check_view(L, 1);
    const msgpack_object *hit = NULL;
    if (v->o->type == MSGPACK_OBJECT_ARRAY) {
        int isnum;
        lua_Integer i = lua_tointegerx(L, 2, &isnum);
        if (isnum && i >= 1 && (uint64_t)i <= v->o->via.array.size)
            hit = &v->o->via.array.ptr[i - 1];
    } else if (lua_type(L, 2) == LUA_TSTRING) {
        size_t len;
        const char *key = lua_tolstring(L, 2, &len);
        hit = vd_rpc_map_get(v->o, key, len, 0);
    }
    if (hit)
        vd_lua_push_value(L, hit);
    else
        lua_pushnil(L);
    return 1;
}

static int view_newindex(lua_State *L) {
    return luaL_error(L, "the event is read-only; use ctx:set(name, value) for features");
}

static int view_len(lua_State *L) {
    const view_t *v = check_view(L, 1);
    lua_pushinteger(L,
                    v->o->type == MSGPACK_OBJECT_ARRAY ? v->o->via.array.size : v->o->via.map.size);
    return 1;
}

/* Iterator closure: upvalue 1 is the view, upvalue 2 the next position. */
static int view_iter(lua_State *L) {
    const view_t *v = check_view(L, lua_upvalueindex(1));
    lua_Integer pos = lua_tointeger(L, lua_upvalueindex(2));
    uint32_t n = v->o->type == MSGPACK_OBJECT_ARRAY ? v->o->via.array.size : v->o->via.map.size;
    if (pos >= n) return 0;
    lua_pushinteger(L, pos + 1);
    lua_replace(L, lua_upvalueindex(2));
    if (v->o->type == MSGPACK_OBJECT_ARRAY) {
        lua_pushinteger(L, pos + 1);
        vd_lua_push_value(L, &v->o->via.array.ptr[pos]);
    } else {
        vd_lua_push_value(L, &v->o->via.map.ptr[pos].key);
        vd_lua_push_value(L, &v->o->via.map.ptr[pos].val);
    }
    return 2;
}

static int view_pairs(lua_State *L) {
    check_view(L, 1);
    lua_pushvalue(L, 1);
    lua_pushinteger(L, 0);
    lua_pushcclosure(L, view_iter, 2);
    return 1;
}

static int view_tostring(lua_State *L) {
    const view_t *v = luaL_checkudata(L, 1, VIEW_MT);
    lua_pushfstring(
        L, "event %s (%d entries)", v->o->type == MSGPACK_OBJECT_ARRAY ? "array" : "map",
        (int)(v->o->type == MSGPACK_OBJECT_ARRAY ? v->o->via.array.size : v->o->via.map.size));
    return 1;
}

const msgpack_object *vd_lua_to_view(lua_State *L, int idx) {
    if (!luaL_testudata(L, idx, VIEW_MT)) return NULL;
    return check_view(L, idx)->o;
}

void vd_lua_open_view(lua_State *L) {
    static const luaL_Reg mt[] = {{"__index", view_index},       {"__newindex", view_newindex},
                                  {"__len", view_len},           {"__pairs", view_pairs},
                                  {"__tostring", view_tostring}, {NULL, NULL}};
    luaL_newmetatable(L, VIEW_MT);
    luaL_setfuncs(L, mt, 0);
    lua_pushliteral(L, "verdict.view");
    lua_setfield(L, -2, "__metatable");
    lua_pop(L, 1);
}
