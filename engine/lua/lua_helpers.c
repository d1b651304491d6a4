/* Everyday string helpers for rule writers: verdict.lower, trim, email_domain, email_local,
 * header, count, entropy. They take any value and return nil for non-strings, so a rule can
 * call them on a missing field without a guard. */
#include "lua_helpers.h"
#include "base/clock.h"
#include "lua_view.h"
#include "proto/rpc.h"
#include "state.h"

#include <ctype.h>
#include <lauxlib.h>
#include <math.h>
#include <string.h>

/* The string argument at idx, or NULL; the helpers' work is charged by its length. */
static const char *opt_str(lua_State *L, int idx, size_t *len) {
    if (lua_type(L, idx) != LUA_TSTRING) return NULL;
    const char *s = lua_tolstring(L, idx, len);
    vd_lua_charge(L, *len);
    return s;
}

/* Pushes s[0..len) in ASCII lower case (short texts through a stack buffer). */
static void push_lower(lua_State *L, const char *s, size_t len) {
    char small[256];
    if (len <= sizeof small) {
        for (size_t i = 0; i < len; i++)
            small[i] = (char)tolower((unsigned char)s[i]);
        lua_pushlstring(L, small, len);
        return;
    }
    luaL_Buffer b;
    char *p = luaL_buffinitsize(L, &b, len);
    for (size_t i = 0; i < len; i++)
        p[i] = (char)tolower((unsigned char)s[i]);
    luaL_pushresultsize(&b, len);
}

static int has_upper(const char *s, size_t len) {
    for (size_t i = 0; i < len; i++)
        if (s[i] >= 'A' && s[i] <= 'Z') return 1;
    return 0;
}

/* verdict.lower(s) -> s in ASCII lower case, or nil */
static int h_lower(lua_State *L) {
    size_t len;
    const char *s = opt_str(L, 1, &len);
    if (!s) return lua_pushnil(L), 1;
    if (has_upper(s, len))
        push_lower(L, s, len);
    else
        lua_pushvalue(L, 1); /* already lower case: the same string, nothing new to make */
    return 1;
}

/* verdict.trim(s) -> s without leading and trailing white space, or nil */
static int h_trim(lua_State *L) {
    size_t len;
    const char *s = opt_str(L, 1, &len);
    if (!s) return lua_pushnil(L), 1;
    size_t a = 0, b = len;
    while (a < b && isspace((unsigned char)s[a]))
        a++;
    while (b > a && isspace((unsigned char)s[b - 1]))
        b--;
    if (a == 0 && b == len)
        lua_pushvalue(L, 1); /* nothing to trim: the same string */
    else
        lua_pushlstring(L, s + a, b - a);
    return 1;
}

/* Splits an address at its last '@' after trimming spaces and angle brackets. */
static int split_email(const char *s, size_t len, size_t *at, size_t *start, size_t *end) {
    size_t a = 0, b = len;
    while (a < b && (isspace((unsigned char)s[a]) || s[a] == '<'))
        a++;
    while (b > a && (isspace((unsigned char)s[b - 1]) || s[b - 1] == '>' || s[b - 1] == '.'))
        b--;
    const char *p = NULL;
    for (size_t i = b; i-- > a;) {
        if (s[i] == '@') {
            p = s + i;
            break;
        }
    }
    if (!p || p == s + a || p == s + b - 1) return 0;
    *at = (size_t)(p - s);
    *start = a;
    *end = b;
    return 1;
}

size_t vd_email_domain(const char *s, size_t len, char *out, size_t cap) {
    size_t at, a, b;
    if (!split_email(s, len, &at, &a, &b) || b - at - 1 >= cap) return 0;
    for (size_t i = at + 1; i < b; i++)
        out[i - at - 1] = (char)tolower((unsigned char)s[i]);
    out[b - at - 1] = '\0';
    return b - at - 1;
}

/* verdict.email_domain("Bob@Mail.Example.com") -> "mail.example.com", or nil */
static int h_email_domain(lua_State *L) {
    size_t len, at, a, b;
    const char *s = opt_str(L, 1, &len);
    if (!s || !split_email(s, len, &at, &a, &b)) return lua_pushnil(L), 1;
    push_lower(L, s + at + 1, b - at - 1);
    return 1;
}

/* verdict.email_local("Bob.Smith+x@example.com") -> "bob.smith+x", or nil */
static int h_email_local(lua_State *L) {
    size_t len, at, a, b;
    const char *s = opt_str(L, 1, &len);
    if (!s || !split_email(s, len, &at, &a, &b)) return lua_pushnil(L), 1;
    push_lower(L, s + a, at - a);
    return 1;
}

/* verdict.header(ev, name) -> the first value of header `name` in ev.headers, any case. */
static int h_header(lua_State *L) {
    const msgpack_object *ev = vd_lua_to_view(L, 1);
    size_t len;
    const char *name = luaL_checklstring(L, 2, &len);
    const msgpack_object *h = ev ? vd_rpc_map_get(ev, "headers", 7, 0) : NULL;
    const msgpack_object *v = h ? vd_rpc_map_get(h, name, len, 1) : NULL;
    if (v && v->type == MSGPACK_OBJECT_ARRAY) v = v->via.array.size ? &v->via.array.ptr[0] : NULL;
    if (v)
        vd_lua_push_value(L, v);
    else
        lua_pushnil(L);
    return 1;
}

typedef int (*ctype_fn)(int);

static ctype_fn class_fn(const char *name) {
    static const struct {
        const char *name;
        ctype_fn fn;
    } classes[] = {{"digit", isdigit}, {"alpha", isalpha}, {"upper", isupper}, {"lower", islower},
                   {"space", isspace}, {"punct", ispunct}, {"alnum", isalnum}, {NULL, NULL}};
    for (int i = 0; classes[i].name; i++)
        if (strcmp(classes[i].name, name) == 0) return classes[i].fn;
    return NULL;
}

/* verdict.count(s, class) -> bytes of s in the class: digit, alpha, upper, lower, space,
 * punct, alnum or nonascii. 0 for non-strings. */
static int h_count(lua_State *L) {
    size_t len = 0;
    const char *s = opt_str(L, 1, &len);
    const char *cls = luaL_checkstring(L, 2);
    int nonascii = strcmp(cls, "nonascii") == 0;
    ctype_fn fn = nonascii ? NULL : class_fn(cls);
    if (!nonascii && !fn) return luaL_argerror(L, 2, "unknown character class");
    lua_Integer n = 0;
    for (size_t i = 0; s && i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        n += nonascii ? c >= 0x80 : fn(c) != 0;
    }
    lua_pushinteger(L, n);
    return 1;
}

/* verdict.entropy(s) -> Shannon entropy in bits per byte (0 for empty or non-strings). */
static int h_entropy(lua_State *L) {
    size_t len = 0;
    const char *s = opt_str(L, 1, &len);
    unsigned counts[256] = {0};
    for (size_t i = 0; s && i < len; i++)
        counts[(unsigned char)s[i]]++;
    double h = 0;
    for (int i = 0; i < 256 && len; i++) {
        if (!counts[i]) continue;
        double p = (double)counts[i] / (double)len;
        h -= p * log2(p);
    }
    lua_pushnumber(L, h);
    return 1;
}

/* verdict.now() -> the decision's time, in Unix seconds (a replay's or a test's clock when
 * they set one: never read the system's clock in a rule). verdict.now(true) -> the time, the
 * hour of the day (0-23, UTC) and the day of the week (0 Monday to 6 Sunday, UTC). */
static int h_now(lua_State *L) {
    vd_exec_t *e = vd_lua_ls(L)->exec;
    int64_t t = e ? e->now_s : vd_clock_now_s(NULL);
    lua_pushinteger(L, (lua_Integer)t);
    if (!lua_toboolean(L, 1)) return 1;
    int64_t days = t >= 0 ? t / 86400 : (t - 86399) / 86400;
    lua_pushinteger(L, (lua_Integer)((t - days * 86400) / 3600));
    lua_pushinteger(L, (lua_Integer)(((days % 7) + 7 + 3) % 7)); /* 1970-01-01 was a Thursday */
    return 3;
}

void vd_lua_open_helpers(lua_State *L) {
    static const luaL_Reg fns[] = {{"lower", h_lower},
                                   {"trim", h_trim},
                                   {"email_domain", h_email_domain},
                                   {"email_local", h_email_local},
                                   {"header", h_header},
                                   {"count", h_count},
                                   {"entropy", h_entropy},
                                   {"now", h_now},
                                   {NULL, NULL}};
    luaL_setfuncs(L, fns, 0);
}
