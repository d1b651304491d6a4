/* Lookup sets for rules: verdict.set (exact strings), verdict.domains (a domain and all its
 * subdomains) and verdict.lines (the entries of a list file shipped beside the policies). */
#include "lua_sets.h"
#include "state.h"

#include <ctype.h>
#include <lauxlib.h>
#include <string.h>

typedef struct set {
    int domains; /* match suffixes at label boundaries */
} set_t;

/* Builds a set from an array of strings; domains are stored in lower case. */
static int set_build(lua_State *L, int domains) {
    luaL_checktype(L, 1, LUA_TTABLE);
    set_t *s = lua_newuserdatauv(L, sizeof *s, 1);
    s->domains = domains;
    lua_Integer n = luaL_len(L, 1);
    lua_createtable(L, 0, (int)(n > 1 << 20 ? 1 << 20 : n));
    for (lua_Integer i = 1; i <= n; i++) {
        lua_geti(L, 1, i);
        if (lua_type(L, -1) != LUA_TSTRING)
            return luaL_error(L, "verdict.%s: entry %d is a %s, not a string",
                              domains ? "domains" : "set", (int)i, luaL_typename(L, -1));
        if (domains) {
            size_t len;
            const char *d = lua_tolstring(L, -1, &len);
            luaL_Buffer b;
            char *p = luaL_buffinitsize(L, &b, len);
            size_t k = 0;
            for (size_t j = 0; j < len; j++)
                if (!(j == 0 && d[j] == '.')) p[k++] = (char)tolower((unsigned char)d[j]);
            luaL_pushresultsize(&b, k);
            lua_remove(L, -2);
        }
        lua_pushboolean(L, 1);
        lua_rawset(L, -3);
    }
    lua_setiuservalue(L, -2, 1);
    vd_udata_set(L, VD_UDATA_SET);
    return 1;
}

static int set_new(lua_State *L) {
    return set_build(L, 0);
}

static int domains_new(lua_State *L) {
    return set_build(L, 1);
}

static int contains(lua_State *L, const char *s, size_t len) {
    lua_pushlstring(L, s, len);
    int hit = lua_rawget(L, -2) != LUA_TNIL;
    lua_pop(L, 1);
    return hit;
}

/* set:has(s) -> true when s is in the set; for domain sets, when s or a parent domain is. */
static int set_has(lua_State *L) {
    const set_t *set = vd_udata_check(L, 1, VD_UDATA_SET);
    size_t len;
    if (lua_type(L, 2) != LUA_TSTRING) return lua_pushboolean(L, 0), 1;
    const char *s = lua_tolstring(L, 2, &len);
    lua_getiuservalue(L, 1, 1);
    int hit = 0;
    if (!set->domains) {
        hit = contains(L, s, len);
    } else {
        char buf[256];
        if (len >= sizeof buf) return lua_pushboolean(L, 0), 1;
        for (size_t i = 0; i < len; i++)
            buf[i] = (char)tolower((unsigned char)s[i]);
        for (size_t start = 0; !hit && start < len;) {
            hit = contains(L, buf + start, len - start);
            const char *dot = memchr(buf + start, '.', len - start);
            if (!dot) break;
            start = (size_t)(dot - buf) + 1;
        }
    }
    lua_pushboolean(L, hit);
    return 1;
}

static int set_len(lua_State *L) {
    vd_udata_check(L, 1, VD_UDATA_SET);
    lua_getiuservalue(L, 1, 1);
    lua_Integer n = 0;
    lua_pushnil(L);
    while (lua_next(L, -2)) {
        n++;
        lua_pop(L, 1);
    }
    lua_pushinteger(L, n);
    return 1;
}

/* verdict.lines("lists/x.txt") -> array of the file's entries: trimmed lines, without blank
 * lines and '#' comments. Only files inside the policy directory can be read, only at load. */
static int lines(lua_State *L) {
    const char *path = luaL_checkstring(L, 1);
    vd_lstate_t *ls = vd_lua_ls(L);
    if (!ls->loading || !ls->files.dir)
        return luaL_error(L, "verdict.lines can only be called while policies load");
    size_t len;
    const char *data = ls->files.find(ls->files.ud, path, &len);
    if (!data)
        return luaL_error(L, "verdict.lines: no file '%s' in the policy directory %s", path,
                          ls->files.dir);
    lua_newtable(L);
    lua_Integer n = 0;
    const char *p = data, *end = data + len;
    while (p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        const char *e = nl ? nl : end;
        const char *a = p, *b = e;
        while (a < b && isspace((unsigned char)*a))
            a++;
        while (b > a && isspace((unsigned char)b[-1]))
            b--;
        if (b > a && *a != '#') {
            lua_pushlstring(L, a, (size_t)(b - a));
            lua_rawseti(L, -2, ++n);
        }
        p = e + 1;
    }
    return 1;
}

void vd_lua_open_sets(lua_State *L) {
    vd_udata_newtype(L, VD_UDATA_SET);
    lua_newtable(L);
    lua_pushcfunction(L, set_has);
    lua_setfield(L, -2, "has");
    lua_setfield(L, -2, "__index");
    lua_pushcfunction(L, set_len);
    lua_setfield(L, -2, "__len");
    lua_pop(L, 1);
    static const luaL_Reg fns[] = {
        {"set", set_new}, {"domains", domains_new}, {"lines", lines}, {NULL, NULL}};
    luaL_setfuncs(L, fns, 0);
}
