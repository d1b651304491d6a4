#include "lua_pack.h"

#include "reader.h"

#include <lauxlib.h>
#include <stdio.h>
#include <string.h>

#define MAX_DEPTH 32 /* deeper is a table that holds itself, or no event a service sends */

typedef struct packing {
    lua_State *L;
    msgpack_packer *pk;
    char path[200]; /* where the value being packed is: headers.Date, to[2] */
    char *err;
    size_t errlen;
} packing_t;

static int fail(packing_t *p, const char *what) {
    snprintf(p->err, p->errlen, "%s: %s", p->path, what);
    return -1;
}

static int pack_value(packing_t *p, int idx, int depth);

/* Appends a key or an index to the path; returns the old length to cut it back to. */
static size_t path_push(packing_t *p, int idx_key) {
    lua_State *L = p->L;
    size_t n = strlen(p->path);
    if (lua_type(L, idx_key) == LUA_TSTRING)
        snprintf(p->path + n, sizeof p->path - n, "%s%s", n ? "." : "", lua_tostring(L, idx_key));
    else
        snprintf(p->path + n, sizeof p->path - n, "[%lld]", (long long)lua_tointeger(L, idx_key));
    return n;
}

/* 1: the table at idx is an array (keys 1..n), 0: a map (string keys; an empty table), -1:
 * neither. *n gets its number of entries. */
static int table_kind(lua_State *L, int idx, uint32_t *n) {
    lua_Unsigned len = lua_rawlen(L, idx), count = 0;
    int strings = 0, positions = 0;
    lua_pushnil(L);
    while (lua_next(L, idx)) {
        lua_pop(L, 1);
        count++;
        if (lua_type(L, -1) == LUA_TSTRING)
            strings++;
        else if (lua_isinteger(L, -1) && lua_tointeger(L, -1) >= 1 &&
                 (lua_Unsigned)lua_tointeger(L, -1) <= len)
            positions++;
        else {
            lua_pop(L, 1);
            return -1;
        }
    }
    *n = (uint32_t)count;
    if (strings && positions) return -1;
    return positions ? 1 : 0;
}

static int pack_table(packing_t *p, int idx, int depth) {
    lua_State *L = p->L;
    uint32_t n;
    if (depth >= MAX_DEPTH) return fail(p, "nested too deeply (a table that holds itself?)");
    if (!lua_checkstack(L, 4)) return fail(p, "out of Lua stack");
    int kind = table_kind(L, idx, &n);
    if (kind < 0) return fail(p, "a table mixes named fields and list positions");
    if (kind == 1) {
        msgpack_pack_array(p->pk, n);
        for (uint32_t i = 1; i <= n; i++) {
            lua_pushinteger(L, i);
            size_t cut = path_push(p, -1);
            lua_geti(L, idx, i);
            int rc = pack_value(p, lua_gettop(L), depth + 1);
            lua_pop(L, 2);
            if (rc) return rc;
            p->path[cut] = '\0';
        }
        return 0;
    }
    msgpack_pack_map(p->pk, n);
    lua_pushnil(L);
    while (lua_next(L, idx)) {
        size_t len;
        const char *key = lua_tolstring(L, -2, &len); /* a string: table_kind checked */
        msgpack_pack_str_with_body(p->pk, key, len);
        size_t cut = path_push(p, -2);
        int rc = pack_value(p, lua_gettop(L), depth + 1);
        lua_pop(L, 1);
        if (rc) {
            lua_pop(L, 1);
            return rc;
        }
        p->path[cut] = '\0';
    }
    return 0;
}

static int pack_value(packing_t *p, int idx, int depth) {
    lua_State *L = p->L;
    size_t len;
    const char *s;
    switch (lua_type(L, idx)) {
    case LUA_TSTRING:
        s = lua_tolstring(L, idx, &len);
        return msgpack_pack_str_with_body(p->pk, s, len);
    case LUA_TNUMBER:
        if (lua_isinteger(L, idx)) return msgpack_pack_int64(p->pk, lua_tointeger(L, idx));
        return msgpack_pack_double(p->pk, lua_tonumber(L, idx));
    case LUA_TBOOLEAN:
        return lua_toboolean(L, idx) ? msgpack_pack_true(p->pk) : msgpack_pack_false(p->pk);
    case LUA_TTABLE:
        return pack_table(p, idx, depth);
    default:
        if (vd_ptest_is_absent(L, idx))
            return fail(p, "absent only takes a field out in merge(...)");
        char what[64];
        snprintf(what, sizeof what, "a %s cannot be part of an event", luaL_typename(L, idx));
        return fail(p, what);
    }
}

int vd_ptest_pack(lua_State *L, int idx, msgpack_packer *pk, char *err, size_t errlen) {
    packing_t p = {.L = L, .pk = pk, .err = err, .errlen = errlen};
    err[0] = '\0';
    if (pack_value(&p, lua_absindex(L, idx), 0) == 0) return 0;
    if (!err[0]) snprintf(err, errlen, ": out of memory");
    return -1;
}
