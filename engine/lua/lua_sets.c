/* Lookup sets for rules: verdict.set (exact strings), verdict.domains (a domain and all its
 * subdomains) and verdict.lines (the entries of a list file shipped beside the policies). */
#include "lua_sets.h"
#include "lua_ctx.h"
#include "state.h"
#include "state/string_set.h"

#include <ctype.h>
#include <lauxlib.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

typedef struct set {
    int domains;           /* match suffixes at label boundaries */
    vd_string_set_t index; /* over strings (C memory: lookups make no Lua strings) */
    vd_string_t *strings;  /* into text */
    char *text;
    size_t distinct;
    size_t charged; /* bytes counted in the state's memory use */
} set_t;

/* The entry at the top of the stack as the set keeps it (domains: lower case, one leading
 * dot dropped), appended to text. Returns its length, or -1 when out of memory. */
static long keep_entry(lua_State *L, int domains, char **text, size_t *len, size_t *cap) {
    size_t n;
    const char *e = lua_tolstring(L, -1, &n);
    if (*cap - *len < n + 1) {
        size_t grown = *cap ? *cap * 2 : 1024;
        while (grown - *len < n + 1)
            grown *= 2;
        char *t = realloc(*text, grown);
        if (!t) return -1;
        *text = t;
        *cap = grown;
    }
    char *out = *text + *len;
    size_t k = 0;
    for (size_t j = 0; j < n; j++) {
        if (domains && j == 0 && e[j] == '.') continue;
        char ch = e[j];
        if (domains) ch = (char)tolower((unsigned char)ch);
        out[k++] = ch;
    }
    out[k] = '\0';
    *len += k + 1;
    return (long)k;
}

/* The C memory of a set counts against the Lua state's cap, as if Lua had allocated it. */
static size_t set_bytes(const set_t *set, size_t text_cap, size_t n) {
    return text_cap + n * sizeof *set->strings + vd_string_set_bytes(&set->index);
}

static int set_gc(lua_State *L) {
    set_t *set = vd_udata_check(L, 1, VD_UDATA_SET);
    vd_lua_ls(L)->mem_used -= set->charged;
    set->charged = 0;
    vd_string_set_free(&set->index);
    free(set->strings);
    free(set->text);
    set->strings = NULL;
    set->text = NULL;
    return 0;
}

/* Builds a set from an array of strings. */
static int set_build(lua_State *L, int domains) {
    luaL_checktype(L, 1, LUA_TTABLE);
    lua_Integer n = luaL_len(L, 1);
    if (n < 0 || n > (1 << 24)) return luaL_error(L, "verdict.set: too many entries");
    set_t *set = lua_newuserdatauv(L, sizeof *set, 0);
    memset(set, 0, sizeof *set);
    set->domains = domains;
    vd_udata_set(L, VD_UDATA_SET); /* from here __gc frees what is built */
    size_t len = 0, cap = 0;
    if (!(set->strings = calloc((size_t)n + 1, sizeof *set->strings)))
        return luaL_error(L, "verdict.set: out of memory");
    for (lua_Integer i = 1; i <= n; i++) {
        if (lua_geti(L, 1, i) != LUA_TSTRING) /* a frozen table reads through its proxy */
            return luaL_error(L, "verdict.%s: entry %d is a %s, not a string",
                              domains ? "domains" : "set", (int)i, luaL_typename(L, -1));
        long k = keep_entry(L, domains, &set->text, &len, &cap);
        lua_pop(L, 1);
        if (k < 0) return luaL_error(L, "verdict.set: out of memory");
        /* Where the entry ends, until the text stops moving; made a pointer below. */
        set->strings[i - 1].s = (const char *)(uintptr_t)(len - 1 - (size_t)k);
        set->strings[i - 1].len = (uint32_t)k;
        set->strings[i - 1].id = (uint32_t)(i - 1);
    }
    for (lua_Integer i = 0; i < n; i++)
        set->strings[i].s = set->text + (uintptr_t)set->strings[i].s;
    if (vd_string_set_build(&set->index, set->strings, (size_t)n) != 0)
        return luaL_error(L, "verdict.set: out of memory");
    vd_lstate_t *ls = vd_lua_ls(L);
    size_t bytes = set_bytes(set, cap, (size_t)n);
    if (ls->limits.mem_limit && ls->mem_used + bytes > ls->limits.mem_limit)
        return luaL_error(L, "verdict.set: not enough memory (the Lua memory cap)");
    ls->mem_used += bytes;
    set->charged = bytes;
    for (lua_Integer i = 0; i < n; i++) /* equal entries: the one with the largest id answers */
        set->distinct +=
            vd_string_set_find(&set->index, set->strings[i].s, set->strings[i].len) == (uint32_t)i;
    return 1;
}

static int set_new(lua_State *L) {
    return set_build(L, 0);
}

static int domains_new(lua_State *L) {
    return set_build(L, 1);
}

int vd_lua_set_contains(const void *set_ud, const char *s, size_t len) {
    const set_t *set = set_ud;
    if (!set->domains) return vd_string_set_find(&set->index, s, len) != VD_STRING_NONE;
    char buf[256];
    if (len >= sizeof buf) return 0;
    for (size_t i = 0; i < len; i++)
        buf[i] = (char)tolower((unsigned char)s[i]);
    for (size_t start = 0; start < len;) {
        if (vd_string_set_find(&set->index, buf + start, len - start) != VD_STRING_NONE) return 1;
        const char *dot = memchr(buf + start, '.', len - start);
        if (!dot) break;
        start = (size_t)(dot - buf) + 1;
    }
    return 0;
}

/* set:has(s) -> true when s is in the set; for domain sets, when s or a parent domain is. */
static int set_has(lua_State *L) {
    const set_t *set = vd_udata_check(L, 1, VD_UDATA_SET);
    size_t len;
    if (lua_type(L, 2) != LUA_TSTRING) return lua_pushboolean(L, 0), 1;
    const char *s = lua_tolstring(L, 2, &len);
    int hit = vd_lua_set_contains(set, s, len);
    vd_lua_note_lookup(L, set->domains ? "a domain set" : "a set", s, len, hit, NULL, 0);
    lua_pushboolean(L, hit);
    return 1;
}

static int set_len(lua_State *L) {
    const set_t *set = vd_udata_check(L, 1, VD_UDATA_SET);
    lua_pushinteger(L, (lua_Integer)set->distinct);
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
    lua_pushcfunction(L, set_gc);
    lua_setfield(L, -2, "__gc");
    lua_pop(L, 1);
    static const luaL_Reg fns[] = {
        {"set", set_new}, {"domains", domains_new}, {"lines", lines}, {NULL, NULL}};
    luaL_setfuncs(L, fns, 0);
}
