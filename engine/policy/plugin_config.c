#include "plugin_config.h"

#include "base/error.h"

#include <lauxlib.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_DEPTH 16

typedef struct conv {
    lua_State *L;
    char *err;
    size_t errlen;
} conv_t;

static int fail(conv_t *cv, const char *path, const char *what) {
    snprintf(cv->err, cv->errlen, "configuration key '%s': %s", *path ? path : "(top)", what);
    return VD_EPOLICY;
}

static int convert(conv_t *cv, int idx, vd_plugin_config_t *out, const char *path, int depth,
                   const char *const *skip);

static int skipped(const char *key, const char *const *skip) {
    for (; skip && *skip; skip++)
        if (strcmp(*skip, key) == 0) return 1;
    return 0;
}

/* Tables: a list when every key is 1..n, a map when every key is a string. */
static int convert_table(conv_t *cv, int idx, vd_plugin_config_t *out, const char *path, int depth,
                         const char *const *skip) {
    lua_State *L = cv->L;
    if (depth > MAX_DEPTH) return fail(cv, path, "nested too deeply");
    size_t strings = 0, total = 0, n = lua_rawlen(L, idx);
    lua_pushnil(L);
    while (lua_next(L, idx)) {
        lua_pop(L, 1);
        if (lua_type(L, -1) == LUA_TSTRING) {
            if (!skipped(lua_tostring(L, -1), skip)) strings++, total++;
        } else {
            total++;
        }
    }
    int is_map = strings > 0 || total == 0;
    if ((is_map && strings != total) || (!is_map && total != n))
        return fail(cv, path, "a table must be a list {a, b} or a map {k = v}, not both");
    out->type = is_map ? VD_PLUGIN_MAP : VD_PLUGIN_ARRAY;
    out->items = calloc(total ? total : 1, sizeof *out->items);
    out->keys = is_map ? calloc(total ? total : 1, sizeof *out->keys) : NULL;
    if (!out->items || (is_map && !out->keys)) return fail(cv, path, "out of memory");
    if (!is_map) {
        for (size_t i = 0; i < n; i++) {
            char sub[256];
            snprintf(sub, sizeof sub, "%s[%zu]", path, i + 1);
            lua_rawgeti(L, idx, (lua_Integer)i + 1);
            int rc = convert(cv, lua_gettop(L), &out->items[out->len++], sub, depth + 1, NULL);
            lua_pop(L, 1);
            if (rc) return rc;
        }
        return 0;
    }
    lua_pushnil(L);
    while (lua_next(L, idx)) {
        const char *key = lua_tostring(L, -2);
        if (skipped(key, skip)) {
            lua_pop(L, 1);
            continue;
        }
        if (!(out->keys[out->len] = strdup(key)))
            return lua_pop(L, 2), fail(cv, path, "out of memory");
        out->len++;
        lua_pop(L, 1);
    }
    vd_plugin_config_sort_keys(out);
    for (size_t i = 0; i < out->len; i++) {
        char sub[256];
        snprintf(sub, sizeof sub, "%s%s%s", path, *path ? "." : "", out->keys[i]);
        lua_getfield(L, idx, out->keys[i]);
        int rc = convert(cv, lua_gettop(L), &out->items[i], sub, depth + 1, NULL);
        lua_pop(L, 1);
        if (rc) return rc;
    }
    return 0;
}

static int convert(conv_t *cv, int idx, vd_plugin_config_t *out, const char *path, int depth,
                   const char *const *skip) {
    lua_State *L = cv->L;
    switch (lua_type(L, idx)) {
    case LUA_TBOOLEAN:
        out->type = VD_PLUGIN_BOOL;
        out->b = lua_toboolean(L, idx);
        return 0;
    case LUA_TNUMBER:
        out->n = lua_tonumber(L, idx);
        if (lua_isinteger(L, idx)) {
            out->type = VD_PLUGIN_INT;
            out->i = lua_tointeger(L, idx);
        } else {
            out->type = VD_PLUGIN_FLOAT;
        }
        return 0;
    case LUA_TSTRING: {
        size_t len;
        const char *s = lua_tolstring(L, idx, &len);
        out->type = VD_PLUGIN_STRING;
        if (!(out->s = malloc(len + 1))) return fail(cv, path, "out of memory");
        memcpy(out->s, s, len + 1);
        out->len = len;
        return 0;
    }
    case LUA_TTABLE:
        return convert_table(cv, idx, out, path, depth, skip);
    default: {
        char what[96];
        snprintf(what, sizeof what, "a %s cannot be passed to a plugin", luaL_typename(L, idx));
        return fail(cv, path, what);
    }
    }
}

int vd_plugin_config_from_lua(lua_State *L, int idx, const char *const *skip,
                              vd_plugin_config_t **out, char *err, size_t errlen) {
    conv_t cv = {L, err, errlen};
    vd_plugin_config_t *c = calloc(1, sizeof *c);
    if (!c) return snprintf(err, errlen, "out of memory"), VD_ENOMEM;
    int rc = convert(&cv, lua_absindex(L, idx), c, "", 0, skip);
    if (rc) {
        vd_plugin_config_free(c);
        return rc;
    }
    *out = c;
    return 0;
}
