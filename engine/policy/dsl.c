#include "dsl.h"

#include "lua/state.h"

#include <lauxlib.h>

/* Pushes the record list named kind ("rules" or "pipelines"). */
static void push_list(lua_State *L, const char *kind) {
    lua_getfield(L, LUA_REGISTRYINDEX, VD_DSL_DECLS);
    lua_getfield(L, -1, kind);
    lua_remove(L, -2);
}

/* Creates a record {name, file, line} for the caller's position, leaving it on the stack. */
static void new_record(lua_State *L, const char *what) {
    if (!vd_lua_ls(L)->loading)
        luaL_error(L, "%s \"...\" {...} can only be used at the top level of a policy file", what);
    const char *name = luaL_checkstring(L, 1);
    if (!*name) luaL_error(L, "%s name must not be empty", what);
    lua_Debug ar;
    lua_createtable(L, 0, 4);
    lua_pushstring(L, name);
    lua_setfield(L, -2, "name");
    if (lua_getstack(L, 1, &ar) && lua_getinfo(L, "Sl", &ar)) {
        lua_pushstring(L, ar.short_src);
        lua_setfield(L, -2, "file");
        lua_pushinteger(L, ar.currentline);
        lua_setfield(L, -2, "line");
    }
}

/* The builders' closures hold records the freeze does not reach (C upvalues): kept past
 * loading, they must not take or hand out anything. */
static void loading_only(lua_State *L) {
    if (!vd_lua_ls(L)->loading)
        luaL_error(L, "declarations can only be completed while the policy loads");
}

/* The function returned by rule "x" / pipeline "x": takes the spec table (upvalue: record). */
static int take_spec(lua_State *L) {
    loading_only(L);
    lua_pushvalue(L, lua_upvalueindex(1));
    lua_getfield(L, -1, "spec");
    if (!lua_isnil(L, -1)) return luaL_error(L, "declaration body given twice");
    lua_pop(L, 1);
    luaL_checktype(L, 1, LUA_TTABLE);
    lua_pushvalue(L, 1);
    lua_setfield(L, -2, "spec");
    return 0;
}

static int declare(lua_State *L, const char *what, const char *kind) {
    new_record(L, what);
    push_list(L, kind);
    lua_pushvalue(L, -2);
    lua_rawseti(L, -2, (lua_Integer)lua_rawlen(L, -2) + 1);
    lua_pop(L, 1);
    lua_pushcclosure(L, take_spec, 1);
    return 1;
}

/* rule "name" { when = function(ev, ctx) ... end, score = n, tags = {...}, ... } */
static int dsl_rule(lua_State *L) {
    return declare(L, "rule", "rules");
}

/* pipeline "name" { stages = {...}, actions = {...}, default = "allow" } */
static int dsl_pipeline(lua_State *L) {
    return declare(L, "pipeline", "pipelines");
}

/* The function returned by stage "x": turns the record into a stage table. */
static int stage_body(lua_State *L) {
    loading_only(L);
    luaL_checktype(L, 1, LUA_TTABLE);
    lua_pushvalue(L, lua_upvalueindex(1));
    lua_pushvalue(L, 1);
    lua_setfield(L, -2, "spec");
    lua_pushboolean(L, 1);
    lua_setfield(L, -2, VD_DSL_STAGE_MARK);
    return 1;
}

/* stage "name" { "rule_a", "rule_b", shadow = true, on_error = "open" } */
static int dsl_stage(lua_State *L) {
    new_record(L, "stage");
    lua_pushcclosure(L, stage_body, 1);
    return 1;
}

/* The function returned by plugin "x": like a stage, marked as a plugin stage. */
static int plugin_body(lua_State *L) {
    stage_body(L);
    lua_pushboolean(L, 1);
    lua_setfield(L, -2, VD_DSL_PLUGIN_MARK);
    return 1;
}

/* plugin "geoip" { database = "...", shadow = true, timeout_ms = 50 } */
static int dsl_plugin(lua_State *L) {
    new_record(L, "plugin");
    lua_pushcclosure(L, plugin_body, 1);
    return 1;
}

void vd_dsl_open(lua_State *L) {
    lua_createtable(L, 0, 2);
    lua_newtable(L);
    lua_setfield(L, -2, "rules");
    lua_newtable(L);
    lua_setfield(L, -2, "pipelines");
    lua_setfield(L, LUA_REGISTRYINDEX, VD_DSL_DECLS);
    lua_register(L, "rule", dsl_rule);
    lua_register(L, "pipeline", dsl_pipeline);
    lua_register(L, "stage", dsl_stage);
    lua_register(L, "plugin", dsl_plugin);
}
