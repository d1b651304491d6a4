/* State for rules: verdict.counter (sliding-window counters), verdict.distinct (approximate
 * distinct counts) and verdict.label / verdict.labeled (labels with expiry), over the store
 * every worker shares (engine/state/store.h). */
#include "../state/store.h"
#include "lua_bindings.h"
#include "state.h"

#include <lauxlib.h>
#include <time.h>

static vd_store_t *store(lua_State *L) {
    vd_store_t *s = vd_lua_ls(L)->limits.store;
    if (!s) luaL_error(L, "state (counters, labels) is not available here");
    return s;
}

static int64_t now(void) {
    return (int64_t)time(NULL);
}

static void oom(lua_State *L, int rc) {
    if (rc) luaL_error(L, "state store: out of memory");
}

/* verdict.counter(key [, n]) -> the counts of the last minute, hour and day, after adding n
 * (default 1; 0 only reads). */
static int l_count(lua_State *L) {
    size_t len;
    const char *key = luaL_checklstring(L, 1, &len);
    lua_Integer n = luaL_optinteger(L, 2, 1);
    luaL_argcheck(L, n >= 0 && n <= 1000000, 2, "must be an integer from 0 to 1000000");
    uint64_t c[VD_WINDOWS];
    oom(L, vd_store_count(store(L), key, len, (uint32_t)n, now(), c));
    for (int w = 0; w < VD_WINDOWS; w++)
        lua_pushinteger(L, (lua_Integer)c[w]);
    return VD_WINDOWS;
}

/* verdict.distinct(key, value [, ttl]) -> the approximate number of distinct values seen
 * under key (value nil only reads); the set expires ttl seconds after its last addition
 * (default a day). */
static int l_distinct(lua_State *L) {
    size_t len, vlen = 0;
    const char *key = luaL_checklstring(L, 1, &len);
    const char *value = lua_isnoneornil(L, 2) ? NULL : luaL_checklstring(L, 2, &vlen);
    lua_Integer ttl = luaL_optinteger(L, 3, 86400);
    double est;
    oom(L, vd_store_distinct(store(L), key, len, value, vlen, now(), ttl, &est));
    lua_pushinteger(L, (lua_Integer)(est + 0.5));
    return 1;
}

/* verdict.label(key, ttl) sets the label for ttl seconds (0 removes it). */
static int l_label(lua_State *L) {
    size_t len;
    const char *key = luaL_checklstring(L, 1, &len);
    lua_Integer ttl = luaL_checkinteger(L, 2);
    oom(L, vd_store_label(store(L), key, len, now(), ttl));
    return 0;
}

/* verdict.labeled(key) -> seconds the label has left, or nil when it is not set. */
static int l_labeled(lua_State *L) {
    size_t len;
    const char *key = luaL_checklstring(L, 1, &len);
    int64_t left = vd_store_label_ttl(store(L), key, len, now());
    if (left > 0)
        lua_pushinteger(L, (lua_Integer)left);
    else
        lua_pushnil(L);
    return 1;
}

void vd_lua_open_store(lua_State *L) {
    static const luaL_Reg fns[] = {{"counter", l_count},
                                   {"distinct", l_distinct},
                                   {"label", l_label},
                                   {"labeled", l_labeled},
                                   {NULL, NULL}};
    luaL_setfuncs(L, fns, 0);
}
