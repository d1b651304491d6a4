/* verdict.list(path, kind [, options]), or verdict.list.ips / .domains / .exact (path [, options]):
 * a list file shared by every worker and reloaded when the file changes (engine/state/list.h). */
#include "lua_lists.h"
#include "base/path.h"
#include "base/suggest.h"
#include "lua_ctx.h"
#include "state.h"
#include "state/list.h"

#include <lauxlib.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The absolute path of a list, with symbolic links resolved: relative paths are inside the
 * policy directory, and the result must be inside it or the data directory, so that a policy
 * can neither read other files nor show their lines in an error. Raises a Lua error. */
static void resolve(lua_State *L, const char *path, char *out) {
    char joined[PATH_MAX];
    vd_lstate_t *ls = vd_lua_ls(L);
    if (path[0] == '/')
        snprintf(joined, sizeof joined, "%s", path);
    else
        snprintf(joined, sizeof joined, "%s/%s", ls->files.dir ? ls->files.dir : ".", path);
    if (!realpath(joined, out))
        luaL_error(L,
                   "verdict.list: cannot open '%s' (relative paths are inside the policy "
                   "directory)",
                   path);
    if (!vd_path_within(out, ls->files.dir) && !vd_path_within(out, ls->limits.data_dir))
        luaL_error(L,
                   "verdict.list: '%s' is outside the policy directory and the data directory "
                   "(--data-dir); policies read files only there",
                   path);
}

/* Remembers where the list on top of the stack was opened (VD_LUA_LIST_DECLS), without keeping
 * it alive: a list nothing refers to is let go as before. */
static void record_declaration(lua_State *L, const char *path) {
    int list = lua_gettop(L);
    if (lua_getfield(L, LUA_REGISTRYINDEX, VD_LUA_LIST_DECLS) != LUA_TTABLE) {
        lua_pop(L, 1);
        lua_createtable(L, 1, 1);
        lua_createtable(L, 1, 0);
        lua_createtable(L, 0, 1);
        lua_pushliteral(L, "v");
        lua_setfield(L, -2, "__mode");
        lua_setmetatable(L, -2);
        lua_setfield(L, -2, "lists");
        lua_pushvalue(L, -1);
        lua_setfield(L, LUA_REGISTRYINDEX, VD_LUA_LIST_DECLS);
    }
    lua_Integer i = (lua_Integer)lua_rawlen(L, -1) + 1;
    lua_createtable(L, 0, 3);
    lua_Debug ar;
    for (int level = 1; lua_getstack(L, level, &ar); level++) {
        lua_getinfo(L, "Sl", &ar);
        if (ar.currentline > 0) {
            lua_pushstring(L, ar.short_src);
            lua_setfield(L, -2, "file");
            lua_pushinteger(L, ar.currentline);
            lua_setfield(L, -2, "line");
            break;
        }
    }
    lua_pushstring(L, path);
    lua_setfield(L, -2, "path");
    lua_rawseti(L, -2, i);
    lua_getfield(L, -1, "lists");
    lua_pushvalue(L, list);
    lua_rawseti(L, -2, i);
    lua_settop(L, list);
}

/* Opens the list at path (argument p) as kind, with the options table at argument opts. */
static int open_list(lua_State *L, int p, int opts, int kind) {
    const char *path = luaL_checkstring(L, p);
    int skip_bad = 0;
    if (!lua_isnoneornil(L, opts)) {
        luaL_checktype(L, opts, LUA_TTABLE);
        lua_pushnil(L);
        while (lua_next(L, opts)) {
            const char *key = lua_type(L, -2) == LUA_TSTRING ? lua_tostring(L, -2) : "?";
            if (strcmp(key, "skip_bad_lines") != 0 || !lua_isboolean(L, -1))
                return luaL_error(L,
                                  "verdict.list: unknown option '%s' (known: skip_bad_lines, "
                                  "a boolean)",
                                  key);
            skip_bad = lua_toboolean(L, -1);
            lua_pop(L, 1);
        }
    }
    if (!vd_lua_ls(L)->loading)
        return luaL_error(L, "verdict.list can only be called while policies load");
    char abs[PATH_MAX], err[768];
    resolve(L, path, abs);
    vd_list_ref_t *ref = lua_newuserdatauv(L, sizeof *ref, 0);
    memset(ref, 0, sizeof *ref);
    if (vd_list_open(abs, (vd_list_kind_t)kind, skip_bad, ref, err, sizeof err) != 0)
        return luaL_error(L, "verdict.list: %s", err);
    vd_udata_set(L, VD_UDATA_LIST);
    record_declaration(L, path);
    return 1;
}

/* verdict.list(path, kind [, options]) */
static int list_call(lua_State *L) {
    const char *kind_name = luaL_checkstring(L, 3); /* 1 is the verdict.list table */
    int kind = vd_list_kind_parse(kind_name);
    if (kind < 0) {
        static const char *const kinds[] = {"ip", "domain", "exact"};
        vd_suggest_t sg;
        vd_suggest_init(&sg, kind_name);
        for (size_t i = 0; i < sizeof kinds / sizeof *kinds; i++)
            vd_suggest_offer(&sg, kinds[i]);
        char hint[VD_SUGGEST_HINT];
        return luaL_error(L, "verdict.list: unknown kind '%s' (%sknown: ip, domain, exact)",
                          kind_name,
                          vd_suggest_hint(&sg, "did you mean '%s'? ", hint, sizeof hint));
    }
    return open_list(L, 2, 4, kind);
}

/* verdict.list.ips / .domains / .exact (path [, options]) */
static int list_of_kind(lua_State *L) {
    return open_list(L, 1, 2, (int)lua_tointeger(L, lua_upvalueindex(1)));
}

static int list_gc(lua_State *L) {
    vd_list_ref_close(vd_udata_check(L, 1, VD_UDATA_LIST));
    return 0;
}

static int find(lua_State *L, vd_list_hit_t *hit) {
    vd_list_ref_t *ref = vd_udata_check(L, 1, VD_UDATA_LIST);
    if (lua_type(L, 2) != LUA_TSTRING) return 0;
    size_t len;
    const char *s = lua_tolstring(L, 2, &len);
    vd_list_hit_t found;
    int rc = vd_list_find(ref, s, len, &found);
    vd_lua_note_lookup(L, vd_list_path(ref), s, len, rc, rc ? found.entry : NULL,
                       rc ? found.entry_len : 0);
    if (hit) *hit = found;
    return rc;
}

int vd_lua_list_contains(const void *list_ud, const char *s, size_t len) {
    return vd_list_find((vd_list_ref_t *)list_ud, s, len, NULL);
}

/* list:has(x) -> true when x is listed (domains: x or a parent; IPs: inside a prefix) */
static int list_has(lua_State *L) {
    lua_pushboolean(L, find(L, NULL));
    return 1;
}

/* list:match(x) -> the most specific matching entry and its value ("" when none), or nil */
static int list_match(lua_State *L) {
    vd_list_hit_t hit;
    if (!find(L, &hit)) return lua_pushnil(L), 1;
    lua_pushlstring(L, hit.entry, hit.entry_len);
    lua_pushlstring(L, hit.value, hit.value_len);
    return 2;
}

static int list_len(lua_State *L) {
    vd_list_ref_t *ref = vd_udata_check(L, 1, VD_UDATA_LIST);
    vd_list_ref_refresh(ref);
    lua_pushinteger(L, (lua_Integer)vd_list_size(ref));
    return 1;
}

void vd_lua_open_lists(lua_State *L) {
    static const luaL_Reg methods[] = {{"has", list_has}, {"match", list_match}, {NULL, NULL}};
    vd_udata_newtype(L, VD_UDATA_LIST);
    luaL_newlib(L, methods);
    lua_setfield(L, -2, "__index");
    lua_pushcfunction(L, list_len);
    lua_setfield(L, -2, "__len");
    lua_pushcfunction(L, list_gc);
    lua_setfield(L, -2, "__gc");
    lua_pop(L, 1);
    /* verdict.list: callable, with one constructor per kind. */
    static const struct {
        const char *name;
        vd_list_kind_t kind;
    } kinds[] = {{"ips", VD_LIST_IP}, {"domains", VD_LIST_DOMAIN}, {"exact", VD_LIST_EXACT}};
    lua_createtable(L, 0, 3);
    for (size_t i = 0; i < sizeof kinds / sizeof *kinds; i++) {
        lua_pushinteger(L, kinds[i].kind);
        lua_pushcclosure(L, list_of_kind, 1);
        lua_setfield(L, -2, kinds[i].name);
    }
    lua_createtable(L, 0, 1);
    lua_pushcfunction(L, list_call);
    lua_setfield(L, -2, "__call");
    lua_setmetatable(L, -2);
    lua_setfield(L, -2, "list");
}
