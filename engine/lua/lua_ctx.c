/* ctx: what a rule may do besides reading the event. One object per state, reused by every
 * request; it works only while a request is being decided. */
#include "lua_ctx.h"
#include "decision/decision.h"
#include "state.h"

#include <lauxlib.h>
#include <string.h>

static vd_exec_t *current(lua_State *L) {
    vd_exec_t *e = vd_lua_ls(L)->exec;
    if (!e) luaL_error(L, "ctx can only be used while a rule runs");
    return e;
}

static void raise_oom(lua_State *L, int rc) {
    if (rc != 0) luaL_error(L, "out of memory in the request arena");
}

static void push_feature(lua_State *L, const vd_value_t *v) {
    switch (v->type) {
    case VD_VAL_BOOL:
        lua_pushboolean(L, v->u.b);
        break;
    case VD_VAL_INT:
        lua_pushinteger(L, v->u.i);
        break;
    case VD_VAL_NUM:
        lua_pushnumber(L, v->u.n);
        break;
    case VD_VAL_STR:
        lua_pushlstring(L, v->u.s.ptr, v->u.s.len);
        break;
    default:
        lua_pushnil(L);
        break;
    }
}

/* Explain: the feature a rule read and its value then, once per rule (a failure to note it
 * costs the explanation a line, not the rule its run). */
static void note_read(vd_exec_t *e, const char *name, size_t len, const vd_feature_t *f) {
    vd_vec_t *reads = &e->trace_rule->reads;
    for (uint32_t i = 0; i < reads->len; i++) {
        const char *seen = VD_VEC_AT(*reads, vd_trace_read_t, i).name;
        if (strlen(seen) == len && memcmp(seen, name, len) == 0) return;
    }
    char *copy = vd_arena_strndup(e->d->arena, name, len);
    vd_trace_read_t *rd = copy ? vd_vec_push(reads, e->d->arena, sizeof *rd) : NULL;
    if (!rd) return;
    rd->name = copy;
    rd->found = f != NULL;
    if (f) rd->value = f->value;
}

void vd_lua_note_lookup(lua_State *L, const char *in, const char *value, size_t vlen, int hit,
                        const char *entry, size_t elen) {
    vd_exec_t *e = vd_lua_ls(L)->exec;
    if (!e || !e->trace_rule) return;
    vd_arena_t *a = e->d->arena;
    vd_trace_lookup_t *lk = vd_vec_push(&e->trace_rule->lookups, a, sizeof *lk);
    if (!lk) return;
    lk->in = vd_arena_strndup(a, in, strlen(in));
    lk->value = vd_arena_strndup(a, value, vlen < 200 ? vlen : 200);
    lk->entry = entry ? vd_arena_strndup(a, entry, elen < 200 ? elen : 200) : NULL;
    lk->hit = hit;
    if (!lk->in || !lk->value) e->trace_rule->lookups.len--; /* no memory: not noted */
}

/* ctx.features.name: a feature set earlier in this request, or nil. */
static int features_index(lua_State *L) {
    vd_exec_t *e = current(L);
    size_t len;
    const char *name = luaL_checklstring(L, 2, &len);
    const vd_feature_t *f = vd_decision_feature(e->d, name, len, e->shadow);
    if (e->trace_rule) note_read(e, name, len, f);
    if (f)
        push_feature(L, &f->value);
    else
        lua_pushnil(L);
    return 1;
}

static int features_newindex(lua_State *L) {
    return luaL_error(L, "ctx.features is read-only; use ctx:set(name, value)");
}

/* ctx:set(name, value): value is a number, string, boolean or nil. */
static int ctx_set(lua_State *L) {
    vd_exec_t *e = current(L);
    size_t len;
    const char *name = luaL_checklstring(L, 2, &len);
    vd_value_t v = {.type = VD_VAL_NIL};
    switch (lua_type(L, 3)) {
    case LUA_TNIL:
    case LUA_TNONE:
        break;
    case LUA_TBOOLEAN:
        v.type = VD_VAL_BOOL;
        v.u.b = lua_toboolean(L, 3);
        break;
    case LUA_TNUMBER:
        if (lua_isinteger(L, 3)) {
            v.type = VD_VAL_INT;
            v.u.i = lua_tointeger(L, 3);
        } else {
            v.type = VD_VAL_NUM;
            v.u.n = lua_tonumber(L, 3);
        }
        break;
    case LUA_TSTRING:
        v.type = VD_VAL_STR;
        v.u.s.ptr = lua_tolstring(L, 3, &v.u.s.len);
        break;
    default:
        return luaL_error(L,
                          "ctx:set('%s', ...): a feature is a number, string, boolean or nil, "
                          "not a %s",
                          name, luaL_typename(L, 3));
    }
    raise_oom(L, vd_decision_set_feature(e->d, e->shadow, name, len, &v));
    return 0;
}

/* ctx:tag(name) */
static int ctx_tag(lua_State *L) {
    vd_exec_t *e = current(L);
    size_t len;
    const char *tag = luaL_checklstring(L, 2, &len);
    raise_oom(L, vd_decision_add_tag(e->d, e->shadow, tag, len));
    return 0;
}

/* ctx:stop(action): end the pipeline after this rule with a final action. */
static int ctx_stop(lua_State *L) {
    vd_exec_t *e = current(L);
    const char *action = luaL_checkstring(L, 2);
    for (const char *const *a = e->actions; a && *a; a++) {
        if (strcmp(*a, action) == 0) {
            vd_outcome_t *o = e->shadow ? &e->d->shadow : &e->d->main;
            if (!o->stop_action) {
                o->stop_action = *a;
                o->stop_rule = e->rule;
            }
            return 0;
        }
    }
    return luaL_error(L, "ctx:stop('%s'): the pipeline has no such action", action);
}

/* The parts of ctx that change with the rule: ctx.stage, ctx.rule, ctx.shadow. */
static int ctx_dynamic(lua_State *L) {
    size_t len;
    const char *key = lua_tolstring(L, 2, &len);
    if (!key) return 0;
    if ((len == 5 && memcmp(key, "stage", 5) == 0) || (len == 4 && memcmp(key, "rule", 4) == 0)) {
        vd_exec_t *e = current(L);
        lua_pushstring(L, key[0] == 's' ? e->stage : e->rule);
        return 1;
    }
    if (len == 6 && memcmp(key, "shadow", 6) == 0) {
        lua_pushboolean(L, current(L)->shadow);
        return 1;
    }
    return 0;
}

void vd_lua_push_ctx(lua_State *L) {
    lua_rawgeti(L, LUA_REGISTRYINDEX, vd_lua_ls(L)->ctx_ref);
}

void vd_lua_open_ctx(lua_State *L) {
    vd_udata_newtype(L, VD_UDATA_FEATURES);
    lua_pushcfunction(L, features_index);
    lua_setfield(L, -2, "__index");
    lua_pushcfunction(L, features_newindex);
    lua_setfield(L, -2, "__newindex");
    lua_pop(L, 1);
    /* ctx is an empty table: features and the methods are read by the Lua VM from the table
     * behind it, stage, rule and shadow through C; writes raise. */
    static const luaL_Reg methods[] = {
        {"set", ctx_set}, {"tag", ctx_tag}, {"stop", ctx_stop}, {NULL, NULL}};
    lua_createtable(L, 0, 0);
    lua_createtable(L, 0, 3);
    luaL_newlib(L, methods);
    vd_udata_new(L, VD_UDATA_FEATURES, 1, 0);
    lua_setfield(L, -2, "features");
    lua_createtable(L, 0, 1);
    lua_pushcfunction(L, ctx_dynamic);
    lua_setfield(L, -2, "__index");
    lua_setmetatable(L, -2);
    lua_setfield(L, -2, "__index");
    lua_pushcfunction(L, features_newindex); /* the message ctx writes have always had */
    lua_setfield(L, -2, "__newindex");
    lua_pushliteral(L, "verdict.ctx");
    lua_setfield(L, -2, "__metatable");
    lua_setmetatable(L, -2);
    vd_lua_ls(L)->ctx_ref = luaL_ref(L, LUA_REGISTRYINDEX);
}
