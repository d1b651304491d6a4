#include "read_expect.h"

#include "lines.h"

#include <lauxlib.h>
#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

static const char *const expect_keys[] = {"action",     "score",  "fired",    "not_fired",
                                          "features",   "tags",   "not_tags", "shadow_action",
                                          "stopped_by", "faults", NULL};

static const char *const range_keys[] = {"min", "max", NULL};

/* A number from min to max: a number (exactly it), or { min = a, max = b } (either may be
 * left out). */
static void read_range(lua_State *L, vd_ptest_reader_t *r, int idx, const char *what, double *min,
                       double *max) {
    if (lua_type(L, idx) == LUA_TNUMBER) {
        *min = *max = lua_tonumber(L, idx);
        return;
    }
    if (!lua_istable(L, idx))
        vd_ptest_raise(L, r, 0, "%s: expected a number or { min = ..., max = ... }, got %s", what,
                       luaL_typename(L, idx));
    vd_ptest_check_keys(L, r, idx, what, range_keys);
    lua_getfield(L, idx, "min");
    lua_getfield(L, idx, "max");
    if ((!lua_isnil(L, -2) && lua_type(L, -2) != LUA_TNUMBER) ||
        (!lua_isnil(L, -1) && lua_type(L, -1) != LUA_TNUMBER) ||
        (lua_isnil(L, -2) && lua_isnil(L, -1)))
        vd_ptest_raise(L, r, 0, "%s: expected { min = number, max = number } (one may be left out)",
                       what);
    *min = lua_isnil(L, -2) ? -HUGE_VAL : lua_tonumber(L, -2);
    *max = lua_isnil(L, -1) ? HUGE_VAL : lua_tonumber(L, -1);
    lua_pop(L, 2);
    if (*min > *max) vd_ptest_raise(L, r, 0, "%s: min is above max", what);
}

static void add_name(lua_State *L, vd_ptest_reader_t *r, vd_ptest_names_t *n, int idx,
                     const char *what) {
    vd_ptest_name_t *item = vd_vec_push(&n->items, &r->suite->arena, sizeof *item);
    if (!item) vd_ptest_nomem(L);
    item->name = vd_ptest_string(L, r, idx, what, NULL);
}

/* A name, or a list of names. */
static void read_names(lua_State *L, vd_ptest_reader_t *r, vd_ptest_names_t *n, int idx,
                       const char *what) {
    n->given = 1;
    if (!lua_istable(L, idx)) {
        add_name(L, r, n, idx, what);
        return;
    }
    lua_Integer len = (lua_Integer)lua_rawlen(L, idx), count = 0;
    idx = lua_absindex(L, idx);
    lua_pushnil(L);
    while (lua_next(L, idx)) {
        lua_pop(L, 1);
        count++;
    }
    if (count != len)
        vd_ptest_raise(L, r, 0, "%s: expected a name or a list of names { \"a\", \"b\" }", what);
    for (lua_Integer i = 1; i <= len; i++) {
        lua_geti(L, idx, i);
        add_name(L, r, n, -1, what);
        lua_pop(L, 1);
    }
}

/* An expected feature: a string, a boolean, a number or a range, or absent. */
static void read_feature(lua_State *L, vd_ptest_reader_t *r, vd_ptest_expect_t *e) {
    vd_ptest_feature_t *f = vd_vec_push(&e->features, &r->suite->arena, sizeof *f);
    if (!f) vd_ptest_nomem(L);
    f->name = vd_ptest_string(L, r, -2, "features: a name", NULL);
    char what[300];
    snprintf(what, sizeof what, "features.%s", f->name);
    vd_ptest_value_t *v = &f->want;
    switch (lua_type(L, -1)) {
    case LUA_TBOOLEAN:
        v->kind = VD_PTEST_BOOL;
        v->b = lua_toboolean(L, -1);
        break;
    case LUA_TSTRING:
        v->kind = VD_PTEST_STRING;
        v->s = vd_ptest_string(L, r, -1, what, &v->len);
        break;
    case LUA_TNUMBER:
    case LUA_TTABLE:
        v->kind = VD_PTEST_NUMBER;
        read_range(L, r, lua_gettop(L), what, &v->min, &v->max);
        break;
    default:
        if (!vd_ptest_is_absent(L, -1))
            vd_ptest_raise(L, r, 0,
                           "%s: expected a string, a boolean, a number, { min = ..., max = ... } "
                           "or absent, got %s",
                           what, luaL_typename(L, -1));
        v->kind = VD_PTEST_ABSENT;
    }
}

static void read_features(lua_State *L, vd_ptest_reader_t *r, vd_ptest_expect_t *e, int idx) {
    if (!lua_istable(L, idx))
        vd_ptest_raise(L, r, 0, "features: expected { name = value, ... }, got %s",
                       luaL_typename(L, idx));
    idx = lua_absindex(L, idx);
    lua_pushnil(L);
    while (lua_next(L, idx)) {
        read_feature(L, r, e);
        lua_pop(L, 1);
    }
}

/* Pushes the expectation's key and returns 1 when it is given (else 0, nothing pushed); an
 * error from here on names the key's line. */
static int key(lua_State *L, vd_ptest_reader_t *r, int idx, const char *name) {
    lua_settop(L, idx);
    r->key = name;
    return vd_ptest_field(L, idx, name);
}

void vd_ptest_read_expect(lua_State *L, vd_ptest_reader_t *r, vd_ptest_expect_t *e, int idx) {
    r->key_from = vd_ptest_key_line(r, r->case_line, 0, "expect", r->case_line);
    vd_ptest_check_keys(L, r, idx, "expect", expect_keys);
    if (key(L, r, idx, "action")) e->action = vd_ptest_string(L, r, -1, "expect.action", NULL);
    if (key(L, r, idx, "shadow_action"))
        e->shadow_action = vd_ptest_string(L, r, -1, "expect.shadow_action", NULL);
    if (key(L, r, idx, "stopped_by"))
        e->stopped_by = vd_ptest_string(L, r, -1, "expect.stopped_by", NULL);
    if (key(L, r, idx, "score")) {
        e->has_score = 1;
        read_range(L, r, lua_gettop(L), "expect.score", &e->score_min, &e->score_max);
    }
    static const struct {
        const char *key;
        size_t off;
    } lists[] = {{"fired", offsetof(vd_ptest_expect_t, fired)},
                 {"not_fired", offsetof(vd_ptest_expect_t, not_fired)},
                 {"tags", offsetof(vd_ptest_expect_t, tags)},
                 {"not_tags", offsetof(vd_ptest_expect_t, not_tags)},
                 {"faults", offsetof(vd_ptest_expect_t, faults)}};
    for (size_t i = 0; i < sizeof lists / sizeof *lists; i++) {
        char what[32];
        snprintf(what, sizeof what, "expect.%s", lists[i].key);
        if (key(L, r, idx, lists[i].key))
            read_names(L, r, (vd_ptest_names_t *)(void *)((char *)e + lists[i].off), -1, what);
    }
    if (key(L, r, idx, "features")) read_features(L, r, e, -1);
    lua_settop(L, idx);
    r->key = NULL;
    r->key_from = 0;
}

static void locate_names(const vd_ptest_reader_t *r, vd_ptest_names_t *n, const char *key, int at,
                         int to) {
    n->line = vd_ptest_key_line(r, at, to, key, at);
    for (uint32_t i = 0; i < n->items.len; i++) {
        vd_ptest_name_t *item = &VD_VEC_AT(n->items, vd_ptest_name_t, i);
        int line = vd_ptest_line_of_string(r->src, r->len, n->line, to, item->name);
        item->line = line ? line : n->line;
    }
}

void vd_ptest_locate_expect(const vd_ptest_reader_t *r, vd_ptest_expect_t *e, int from, int to) {
    int at = e->line = vd_ptest_key_line(r, from, to, "expect", from);
    e->action_line = vd_ptest_key_line(r, at, to, "action", at);
    e->shadow_action_line = vd_ptest_key_line(r, at, to, "shadow_action", at);
    e->stopped_by_line = vd_ptest_key_line(r, at, to, "stopped_by", at);
    e->score_line = vd_ptest_key_line(r, at, to, "score", at);
    locate_names(r, &e->fired, "fired", at, to);
    locate_names(r, &e->not_fired, "not_fired", at, to);
    locate_names(r, &e->tags, "tags", at, to);
    locate_names(r, &e->not_tags, "not_tags", at, to);
    locate_names(r, &e->faults, "faults", at, to);
    e->features_line = vd_ptest_key_line(r, at, to, "features", at);
    for (uint32_t i = 0; i < e->features.len; i++) {
        vd_ptest_feature_t *f = &VD_VEC_AT(e->features, vd_ptest_feature_t, i);
        f->line = vd_ptest_key_line(r, e->features_line, to, f->name, e->features_line);
    }
}
