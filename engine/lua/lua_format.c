#include "lua_format.h"

#include <stdint.h>
#include <stdio.h>
#include <string.h>

typedef struct out {
    char *p, *end;
} out_t;

static int put(out_t *o, const char *s, size_t n) {
    if ((size_t)(o->end - o->p) <= n) return -1;
    memcpy(o->p, s, n);
    o->p += n;
    return 0;
}

static int put_int(out_t *o, lua_Integer v) {
    char digits[24];
    int n = 0;
    uint64_t u = v < 0 ? (uint64_t)0 - (uint64_t)v : (uint64_t)v;
    do
        digits[n++] = (char)('0' + u % 10);
    while ((u /= 10) != 0);
    if (v < 0) digits[n++] = '-';
    char text[24];
    for (int i = 0; i < n; i++)
        text[i] = digits[n - 1 - i];
    return put(o, text, (size_t)n);
}

/* %s of the value at idx, as luaL_tolstring writes it; -1 for what needs Lua itself. */
static int put_value(out_t *o, lua_State *L, int idx) {
    switch (lua_type(L, idx)) {
    case LUA_TSTRING: {
        size_t n;
        const char *s = lua_tolstring(L, idx, &n);
        if (memchr(s, '\0', n)) return -1; /* string.format has its own rule for these */
        return put(o, s, n);
    }
    case LUA_TNUMBER:
        return lua_isinteger(L, idx) ? put_int(o, lua_tointeger(L, idx)) : -1;
    case LUA_TBOOLEAN:
        return lua_toboolean(L, idx) ? put(o, "true", 4) : put(o, "false", 5);
    case LUA_TNIL:
        return put(o, "nil", 3);
    default:
        return -1; /* tables and userdata may have __tostring or __name */
    }
}

int vd_lua_number_text(lua_State *L, int idx, char *buf, size_t cap) {
    out_t o = {buf, buf + cap};
    if (lua_isinteger(L, idx)) {
        if (put_int(&o, lua_tointeger(L, idx)) != 0) return -1;
    } else {
        /* As Lua writes a float: "%.14g", and ".0" when that looks like an integer. */
        int n = snprintf(buf, cap, "%.14g", (double)lua_tonumber(L, idx));
        if (n < 0 || (size_t)n + 3 > cap) return -1;
        if (buf[strspn(buf, "-0123456789")] == '\0') buf[n++] = '.', buf[n++] = '0';
        o.p = buf + n;
    }
    *o.p = '\0';
    return (int)(o.p - buf);
}

/* %.Nf of the number at idx. */
static int put_fixed(out_t *o, lua_State *L, int idx, int precision) {
    if (lua_type(L, idx) != LUA_TNUMBER) return -1;
    char text[400];
    int n = snprintf(text, sizeof text, "%.*f", precision, (double)lua_tonumber(L, idx));
    return n < 0 || (size_t)n >= sizeof text ? -1 : put(o, text, (size_t)n);
}

int vd_lua_format(lua_State *L, const char *fmt, size_t flen, int first, int last, char *buf,
                  size_t cap) {
    out_t o = {buf, buf + cap};
    int arg = first;
    for (size_t i = 0; i < flen; i++) {
        const char *pct = memchr(fmt + i, '%', flen - i);
        size_t run = pct ? (size_t)(pct - (fmt + i)) : flen - i;
        if (run && put(&o, fmt + i, run) != 0) return -1;
        if (!pct) break;
        i += run + 1;
        if (i >= flen) return -1;
        char c = fmt[i];
        if (c == '%') {
            if (put(&o, "%", 1) != 0) return -1;
            continue;
        }
        if (arg > last) return -1;
        int rc;
        if (c == 'd' || c == 'i') {
            rc = lua_isinteger(L, arg) ? put_int(&o, lua_tointeger(L, arg)) : -1;
        } else if (c == 's') {
            rc = put_value(&o, L, arg);
        } else if (c == '.' && i + 2 < flen && fmt[i + 1] >= '0' && fmt[i + 1] <= '9' &&
                   fmt[i + 2] == 'f') {
            rc = put_fixed(&o, L, arg, fmt[i + 1] - '0');
            i += 2;
        } else {
            return -1;
        }
        if (rc != 0) return -1;
        arg++;
    }
    *o.p = '\0';
    return (int)(o.p - buf);
}
