#include "freeze.h"

#include "readonly.h"
#include "state.h"
#include "upvalue_writes.h"

#include <lauxlib.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Stack slots of the walk (inside the protected call). */
enum { ARGS = 1, MAP = 2, ORDER = 3, SEEN_CELLS = 4, GUARDS = 5 };

typedef struct freeze_args {
    const int *refs;
    size_t nrefs;
    lua_CFunction on_global_write;
    int *guard_up; /* grown here, handed to the state at the end */
    size_t nguard, cap;
} freeze_args_t;

/* Records the value at idx for the walk when it is a table or a Lua function not seen yet;
 * a table gets its proxy now. */
static void discover(lua_State *L, int idx) {
    idx = lua_absindex(L, idx);
    int t = lua_type(L, idx);
    int fn = t == LUA_TFUNCTION && !lua_iscfunction(L, idx);
    if (t != LUA_TTABLE && !fn) return;
    lua_pushvalue(L, idx);
    if (lua_rawget(L, MAP) != LUA_TNIL || (t == LUA_TTABLE && vd_lua_is_engine_object(L, idx))) {
        lua_pop(L, 1);
        return;
    }
    lua_pop(L, 1);
    lua_pushvalue(L, idx);
    if (fn)
        lua_pushboolean(L, 1);
    else
        vd_lua_readonly_new(L, idx);
    lua_rawset(L, MAP);
    lua_pushvalue(L, idx);
    lua_rawseti(L, ORDER, (lua_Integer)lua_rawlen(L, ORDER) + 1);
}

/* Everything the object at idx refers to. */
static void discover_from(lua_State *L, int idx) {
    if (lua_type(L, idx) == LUA_TTABLE) {
        lua_pushnil(L);
        while (lua_next(L, idx)) {
            discover(L, -2);
            discover(L, -1);
            lua_pop(L, 1);
        }
        if (lua_getmetatable(L, idx)) {
            discover(L, -1);
            lua_pop(L, 1);
        }
        return;
    }
    for (int n = 1; lua_getupvalue(L, idx, n); n++) {
        discover(L, -1);
        lua_pop(L, 1);
    }
}

/* Pushes the value at idx mapped to its proxy (or itself); returns 1 when it has a proxy. */
static int push_mapped(lua_State *L, int idx) {
    idx = lua_absindex(L, idx);
    if (lua_type(L, idx) == LUA_TTABLE) {
        lua_pushvalue(L, idx);
        if (lua_rawget(L, MAP) == LUA_TTABLE) return 1;
        lua_pop(L, 1);
    }
    lua_pushvalue(L, idx);
    return 0;
}

/* Points the table at idx at proxies: values in place, table keys moved afterwards (a key
 * cannot change while lua_next walks the table). */
static void rewrite_table(lua_State *L, int idx) {
    lua_newtable(L); /* keys to move: old key -> true */
    int moves = lua_gettop(L);
    lua_pushnil(L);
    while (lua_next(L, idx)) {
        if (push_mapped(L, -2)) {
            lua_pushvalue(L, -3);
            lua_pushboolean(L, 1);
            lua_rawset(L, moves);
        }
        lua_pop(L, 1);
        if (push_mapped(L, -1)) {
            lua_pushvalue(L, -3);
            lua_insert(L, -2);
            lua_rawset(L, idx);
        } else {
            lua_pop(L, 1);
        }
        lua_pop(L, 1);
    }
    lua_pushnil(L);
    while (lua_next(L, moves)) {
        lua_pop(L, 1);
        push_mapped(L, -1); /* new key */
        lua_pushvalue(L, -2);
        lua_rawget(L, idx);
        lua_pushvalue(L, -3);
        lua_pushnil(L);
        lua_rawset(L, idx);
        lua_rawset(L, idx);
    }
    lua_pop(L, 1);
    lua_pushvalue(L, idx);
    lua_rawget(L, MAP);
    vd_lua_readonly_finish(L, -1, MAP);
    lua_pop(L, 1);
}

static void rewrite_function(lua_State *L, int idx) {
    for (int n = 1; lua_getupvalue(L, idx, n); n++) {
        if (push_mapped(L, -1))
            lua_setupvalue(L, idx, n);
        else
            lua_pop(L, 1);
        lua_pop(L, 1);
    }
}

/* Records the upvalues of the function at idx that its code can assign. */
static void guard_function(lua_State *L, int idx, freeze_args_t *a) {
    uint8_t written[32];
    vd_lua_upvalue_writes(L, idx, written);
    for (int n = 1; n <= 255 && lua_getupvalue(L, idx, n); n++) {
        lua_pop(L, 1);
        if (!(written[(n - 1) / 8] & (1u << ((n - 1) % 8)))) continue;
        lua_pushlightuserdata(L, lua_upvalueid(L, idx, n));
        if (lua_rawget(L, SEEN_CELLS) != LUA_TNIL) {
            lua_pop(L, 1);
            continue;
        }
        lua_pop(L, 1);
        lua_pushlightuserdata(L, lua_upvalueid(L, idx, n));
        lua_pushboolean(L, 1);
        lua_rawset(L, SEEN_CELLS);
        if (a->nguard == a->cap) {
            size_t cap = a->cap ? a->cap * 2 : 16;
            int *up = realloc(a->guard_up, cap * sizeof *up);
            if (!up) luaL_error(L, "out of memory");
            a->guard_up = up;
            a->cap = cap;
        }
        a->guard_up[a->nguard++] = n;
        lua_Integer k = (lua_Integer)a->nguard * 2;
        lua_pushvalue(L, idx);
        lua_rawseti(L, GUARDS, k - 1);
        lua_getupvalue(L, idx, n);
        lua_rawseti(L, GUARDS, k);
    }
}

static int freeze_body(lua_State *L) {
    freeze_args_t *a = lua_touserdata(L, ARGS);
    lua_settop(L, ARGS);
    lua_newtable(L); /* MAP */
    lua_newtable(L); /* ORDER */
    lua_newtable(L); /* SEEN_CELLS */
    lua_newtable(L); /* GUARDS */
    lua_rawgeti(L, LUA_REGISTRYINDEX, LUA_RIDX_GLOBALS);
    int globals = lua_gettop(L);
    discover(L, globals);
    for (size_t i = 0; i < a->nrefs; i++) {
        lua_rawgeti(L, LUA_REGISTRYINDEX, a->refs[i]);
        discover(L, -1);
        lua_pop(L, 1);
    }
    for (lua_Integer i = 1; lua_rawgeti(L, ORDER, i) != LUA_TNIL; i++) {
        discover_from(L, lua_gettop(L));
        lua_pop(L, 1);
    }
    lua_pop(L, 1);
    lua_Integer n = (lua_Integer)lua_rawlen(L, ORDER);
    for (lua_Integer i = 1; i <= n; i++) {
        lua_rawgeti(L, ORDER, i);
        if (lua_type(L, -1) == LUA_TTABLE)
            rewrite_table(L, lua_gettop(L));
        else
            rewrite_function(L, lua_gettop(L));
        lua_pop(L, 1);
    }
    for (lua_Integer i = 1; i <= n; i++) {
        if (lua_rawgeti(L, ORDER, i) == LUA_TFUNCTION) guard_function(L, lua_gettop(L), a);
        lua_pop(L, 1);
    }
    push_mapped(L, globals);
    if (a->on_global_write) vd_lua_readonly_engine_table(L, -1, a->on_global_write);
    lua_rawseti(L, LUA_REGISTRYINDEX, LUA_RIDX_GLOBALS);
    lua_pushvalue(L, GUARDS);
    return 1;
}

int vd_lua_freeze(lua_State *L, const int *refs, size_t nrefs, lua_CFunction on_global_write,
                  char *err, size_t errlen) {
    freeze_args_t a = {.refs = refs, .nrefs = nrefs, .on_global_write = on_global_write};
    lua_pushcfunction(L, freeze_body);
    lua_pushlightuserdata(L, &a);
    if (lua_pcall(L, 1, 1, 0) != LUA_OK) {
        snprintf(err, errlen, "freezing the policy: %s",
                 lua_type(L, -1) == LUA_TSTRING ? lua_tostring(L, -1) : "out of memory");
        lua_pop(L, 1);
        free(a.guard_up);
        return -1;
    }
    vd_lstate_t *ls = vd_lua_ls(L);
    ls->guard_ref = luaL_ref(L, LUA_REGISTRYINDEX);
    free(ls->guard_up);
    ls->guard_up = a.guard_up;
    ls->nguard = a.nguard;
    return 0;
}

size_t vd_lua_guarded_count(lua_State *L) {
    return vd_lua_ls(L)->nguard;
}

/* The message for the upvalue n of the function on top of the stack. */
static void describe(lua_State *L, int n, char *msg, size_t cap) {
    const char *name = lua_getupvalue(L, -1, n);
    char what[128];
    snprintf(what, sizeof what, "%s", name && *name ? name : "?");
    lua_pop(L, 1);
    lua_Debug ar;
    lua_pushvalue(L, -1);
    lua_getinfo(L, ">S", &ar);
    snprintf(msg, cap,
             "%s:%d: a rule assigned '%s', a local captured when the policy loaded; it was set "
             "back, since nothing a rule writes may outlive its request (keep per-request "
             "values in the rule's own locals or ctx:set, lasting ones in verdict state)",
             ar.short_src, ar.linedefined, what);
}

/* Raw equality, except that NaN is the same as NaN: a local holding NaN has not changed. */
static int same_value(lua_State *L, int a, int b) {
    if (lua_rawequal(L, a, b)) return 1;
    if (lua_type(L, a) != LUA_TNUMBER || lua_type(L, b) != LUA_TNUMBER) return 0;
    lua_Number x = lua_tonumber(L, a), y = lua_tonumber(L, b);
    return x != x && y != y;
}

int vd_lua_guard_check(lua_State *L, char *msg, size_t cap) {
    vd_lstate_t *ls = vd_lua_ls(L);
    if (!ls->nguard) return 0;
    int found = 0;
    lua_rawgeti(L, LUA_REGISTRYINDEX, ls->guard_ref);
    for (size_t i = 0; i < ls->nguard; i++) {
        int n = ls->guard_up[i];
        lua_rawgeti(L, -1, (lua_Integer)(2 * i + 1)); /* the function */
        lua_getupvalue(L, -1, n);
        lua_rawgeti(L, -3, (lua_Integer)(2 * i + 2)); /* its value at load */
        if (!same_value(L, -1, -2)) {
            lua_setupvalue(L, -3, n);
            lua_pop(L, 1);
            if (!found++) describe(L, n, msg, cap);
            lua_pop(L, 1);
        } else {
            lua_pop(L, 3);
        }
    }
    lua_pop(L, 1);
    return found > 0;
}
