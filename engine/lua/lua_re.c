/* verdict.re(pattern [, flags]): PCRE2 regular expressions, JIT-compiled, with a match limit
 * so that no input can make a match run away. Compile them at the top of a policy file. */
#include "lua_re.h"
#include "state.h"

#include <lauxlib.h>
#include <stdio.h>
#include <string.h>

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

typedef struct re {
    pcre2_code *code;
    int jit;
} re_t;

static uint32_t parse_flags(lua_State *L, const char *flags) {
    uint32_t opts = 0;
    for (const char *f = flags; *f; f++) {
        switch (*f) {
        case 'i':
            opts |= PCRE2_CASELESS;
            break;
        case 'm':
            opts |= PCRE2_MULTILINE;
            break;
        case 's':
            opts |= PCRE2_DOTALL;
            break;
        case 'x':
            opts |= PCRE2_EXTENDED;
            break;
        case 'u':
            opts |= PCRE2_UTF | PCRE2_UCP | PCRE2_MATCH_INVALID_UTF;
            break;
        default:
            luaL_error(L, "verdict.re: unknown flag '%c' (use i, m, s, x, u)", *f);
        }
    }
    return opts;
}

static int re_new(lua_State *L) {
    size_t plen;
    const char *pat = luaL_checklstring(L, 1, &plen);
    uint32_t opts = parse_flags(L, luaL_optstring(L, 2, ""));
    re_t *re = lua_newuserdatauv(L, sizeof *re, 0);
    re->code = NULL;
    vd_udata_set(L, VD_UDATA_RE);
    int err;
    PCRE2_SIZE off;
    re->code = pcre2_compile((PCRE2_SPTR)pat, plen, opts, &err, &off, NULL);
    if (!re->code) {
        PCRE2_UCHAR msg[256];
        pcre2_get_error_message(err, msg, sizeof msg);
        return luaL_error(L, "verdict.re: bad pattern /%s/ at offset %d: %s", pat, (int)off, msg);
    }
    re->jit = pcre2_jit_compile(re->code, PCRE2_JIT_COMPLETE) == 0;
    return 1;
}

/* Matches from byte off; returns the PCRE2 result (>0 match, NOMATCH) or raises on limits. */
static int run_at(lua_State *L, const re_t *re, const char *s, size_t len, size_t off) {
    vd_lstate_t *ls = vd_lua_ls(L);
    vd_lua_charge(L, len - off);
    int rc = re->jit ? pcre2_jit_match(re->code, (PCRE2_SPTR)s, len, off, 0, ls->re_md, ls->re_mctx)
                     : pcre2_match(re->code, (PCRE2_SPTR)s, len, off, 0, ls->re_md, ls->re_mctx);
    if (rc < 0 && rc != PCRE2_ERROR_NOMATCH) {
        PCRE2_UCHAR msg[256];
        pcre2_get_error_message(rc, msg, sizeof msg);
        luaL_error(L, "regex match failed: %s", msg);
    }
    return rc;
}

static int run(lua_State *L, const re_t *re, const char *s, size_t len) {
    return run_at(L, re, s, len, 0);
}

int vd_lua_re_find(lua_State *L, const void *re_ud, const char *s, size_t len, const char **m,
                   size_t *mlen, char *err, size_t errlen) {
    const re_t *re = re_ud;
    vd_lstate_t *ls = vd_lua_ls(L);
    int rc = re->jit ? pcre2_jit_match(re->code, (PCRE2_SPTR)s, len, 0, 0, ls->re_md, ls->re_mctx)
                     : pcre2_match(re->code, (PCRE2_SPTR)s, len, 0, 0, ls->re_md, ls->re_mctx);
    if (rc == PCRE2_ERROR_NOMATCH || rc == 0) return 0; /* 0: as re:test and re:match read it */
    if (rc < 0) {
        PCRE2_UCHAR msg[256];
        pcre2_get_error_message(rc, msg, sizeof msg);
        snprintf(err, errlen, "regex match failed: %s", (const char *)msg);
        return -1;
    }
    PCRE2_SIZE *ov = pcre2_get_ovector_pointer(ls->re_md);
    size_t i = rc > 1 ? 1 : 0; /* the first capture, as re:match returns first */
    if (ov[2 * i] == PCRE2_UNSET) {
        *m = NULL;
        *mlen = 0;
    } else {
        *m = s + ov[2 * i];
        *mlen = ov[2 * i + 1] - ov[2 * i];
    }
    return 1;
}

/* re:test(s) -> true when s matches; false for non-strings. */
static int re_test(lua_State *L) {
    const re_t *re = vd_udata_check(L, 1, VD_UDATA_RE);
    size_t len;
    if (lua_type(L, 2) != LUA_TSTRING) return lua_pushboolean(L, 0), 1;
    const char *s = lua_tolstring(L, 2, &len);
    lua_pushboolean(L, run(L, re, s, len) > 0);
    return 1;
}

/* re:match(s) -> the captures (or the whole match when there are none), or nil. */
static int re_match(lua_State *L) {
    const re_t *re = vd_udata_check(L, 1, VD_UDATA_RE);
    size_t len;
    if (lua_type(L, 2) != LUA_TSTRING) return lua_pushnil(L), 1;
    const char *s = lua_tolstring(L, 2, &len);
    int rc = run(L, re, s, len);
    if (rc <= 0) return lua_pushnil(L), 1;
    PCRE2_SIZE *ov = pcre2_get_ovector_pointer(vd_lua_ls(L)->re_md);
    int first = rc > 1 ? 1 : 0;
    luaL_checkstack(L, rc, "too many captures");
    for (size_t i = (size_t)first; i < (size_t)rc; i++) {
        if (ov[2 * i] == PCRE2_UNSET)
            lua_pushnil(L);
        else
            lua_pushlstring(L, s + ov[2 * i], ov[2 * i + 1] - ov[2 * i]);
    }
    return rc - first;
}

/* re:count(s) -> how many non-overlapping matches s holds (0 for non-strings). */
static int re_count(lua_State *L) {
    const re_t *re = vd_udata_check(L, 1, VD_UDATA_RE);
    size_t len;
    if (lua_type(L, 2) != LUA_TSTRING) return lua_pushinteger(L, 0), 1;
    const char *s = lua_tolstring(L, 2, &len);
    lua_Integer n = 0;
    size_t off = 0;
    while (off <= len && run_at(L, re, s, len, off) > 0) {
        PCRE2_SIZE *ov = pcre2_get_ovector_pointer(vd_lua_ls(L)->re_md);
        n++;
        off = ov[1] > ov[0] ? ov[1] : ov[1] + 1; /* an empty match must still advance */
    }
    lua_pushinteger(L, n);
    return 1;
}

static int re_gc(lua_State *L) {
    re_t *re = vd_udata_check(L, 1, VD_UDATA_RE);
    pcre2_code_free(re->code);
    re->code = NULL;
    return 0;
}

void vd_lua_open_re(lua_State *L) {
    static const luaL_Reg methods[] = {
        {"test", re_test}, {"match", re_match}, {"count", re_count}, {NULL, NULL}};
    vd_udata_newtype(L, VD_UDATA_RE);
    luaL_newlib(L, methods);
    lua_setfield(L, -2, "__index");
    lua_pushcfunction(L, re_gc);
    lua_setfield(L, -2, "__gc");
    lua_pop(L, 1);
    lua_pushcfunction(L, re_new);
    lua_setfield(L, -2, "re");
}
