#include "reader.h"

#include "base/error.h"
#include "lines.h"
#include "lua/state.h"
#include "read_case.h"

#include <lauxlib.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define TEST_FILE_INSTRUCTIONS 100000000 /* loops that build hundreds of cases fit */
#define TEST_FILE_MEMORY       ((size_t)256 << 20)

/* The address `absent` stands for: constant, so no state is shared through it. */
static const char absent_mark = 0;

/* The registry key of the metatable that marks what ago() returns. */
static const char ago_mark = 0;

/* ago(seconds, event): event, to be decided that long before the case (in `before`). */
static int ago(lua_State *L) {
    lua_Integer seconds = luaL_checkinteger(L, 1);
    luaL_argcheck(L, seconds >= 0 && seconds <= (lua_Integer)10 * 366 * 86400, 1, "0 to ten years");
    luaL_checktype(L, 2, LUA_TTABLE);
    lua_createtable(L, 2, 0);
    lua_pushvalue(L, 2);
    lua_rawseti(L, -2, 1);
    lua_pushinteger(L, seconds);
    lua_rawseti(L, -2, 2);
    lua_rawgetp(L, LUA_REGISTRYINDEX, &ago_mark);
    lua_setmetatable(L, -2);
    return 1;
}

int vd_ptest_ago(lua_State *L, int idx, int64_t *seconds) {
    idx = lua_absindex(L, idx);
    if (!lua_getmetatable(L, idx)) return 0;
    lua_rawgetp(L, LUA_REGISTRYINDEX, &ago_mark);
    int marked = lua_rawequal(L, -1, -2);
    lua_pop(L, 2);
    if (!marked) return 0;
    lua_rawgeti(L, idx, 2);
    *seconds = (int64_t)lua_tointeger(L, -1);
    lua_pop(L, 1);
    lua_rawgeti(L, idx, 1);
    return 1;
}

int vd_ptest_is_absent(lua_State *L, int idx) {
    return lua_touserdata(L, idx) == (void *)&absent_mark && lua_islightuserdata(L, idx);
}

int vd_ptest_field(lua_State *L, int idx, const char *key) {
    if (lua_getfield(L, idx, key) != LUA_TNIL) return 1;
    lua_pop(L, 1);
    return 0;
}

_Noreturn void vd_ptest_raise(lua_State *L, const vd_ptest_reader_t *r, int line, const char *fmt,
                              ...) {
    char msg[1024];
    if (!line && r->key)
        line = vd_ptest_key_line(r, r->key_from ? r->key_from : r->case_line, 0, r->key, 0);
    int n = snprintf(msg, sizeof msg, "%s:%d: case '%s': ", r->file->path,
                     line ? line : r->case_line, r->case_name ? r->case_name : "?");
    va_list ap;
    va_start(ap, fmt);
    if (n > 0 && (size_t)n < sizeof msg) vsnprintf(msg + n, sizeof msg - (size_t)n, fmt, ap);
    va_end(ap);
    lua_pushstring(L, msg);
    lua_error(L);
    __builtin_unreachable(); /* lua_error jumps to the protected call */
}

_Noreturn void vd_ptest_nomem(lua_State *L) {
    luaL_error(L, "out of memory");
    __builtin_unreachable();
}

int vd_ptest_key_line(const vd_ptest_reader_t *r, int from, int to, const char *key,
                      int otherwise) {
    int line = vd_ptest_line_of_key(r->src, r->len, from, to, key);
    return line ? line : otherwise;
}

void vd_ptest_check_keys(lua_State *L, const vd_ptest_reader_t *r, int idx, const char *what,
                         const char *const *known) {
    idx = lua_absindex(L, idx);
    lua_pushnil(L);
    while (lua_next(L, idx)) {
        lua_pop(L, 1);
        const char *key = lua_type(L, -1) == LUA_TSTRING ? lua_tostring(L, -1) : NULL;
        const char *const *k = known;
        while (key && *k && strcmp(*k, key) != 0)
            k++;
        if (key && *k) continue;
        char list[256] = "";
        for (k = known; *k; k++)
            snprintf(list + strlen(list), sizeof list - strlen(list), "%s%s",
                     k == known ? "" : ", ", *k);
        const char *sep = what[0] ? ": " : "";
        if (!key)
            vd_ptest_raise(L, r, 0, "%s%sa value without a name (known keys: %s)", what, sep, list);
        vd_ptest_raise(L, r, vd_ptest_key_line(r, r->case_line, 0, key, 0),
                       "%s%sunknown key '%s' (known keys: %s)", what, sep, key, list);
    }
}

const char *vd_ptest_string(lua_State *L, const vd_ptest_reader_t *r, int idx, const char *what,
                            size_t *len) {
    if (lua_type(L, idx) != LUA_TSTRING)
        vd_ptest_raise(L, r, 0, "%s: expected a string, got %s", what, luaL_typename(L, idx));
    size_t n;
    const char *s = lua_tolstring(L, idx, &n);
    char *copy = vd_arena_strndup(&r->suite->arena, s, n);
    if (!copy) vd_ptest_nomem(L);
    if (len) *len = n;
    return copy;
}

/* merge(a, b, ...): a new table with the fields of a, then those of b over them, and so on;
 * a field whose value is `absent` is removed. */
static int merge(lua_State *L) {
    int n = lua_gettop(L);
    lua_newtable(L);
    for (int i = 1; i <= n; i++) {
        luaL_checktype(L, i, LUA_TTABLE);
        lua_pushnil(L);
        while (lua_next(L, i)) {
            lua_pushvalue(L, -2);
            if (vd_ptest_is_absent(L, -2))
                lua_pushnil(L);
            else
                lua_pushvalue(L, -2);
            lua_settable(L, n + 1);
            lua_pop(L, 1);
        }
    }
    return 1;
}

static int line_of_caller(lua_State *L) {
    lua_Debug ar;
    if (!lua_getstack(L, 1, &ar) || !lua_getinfo(L, "l", &ar)) return 0;
    return ar.currentline > 0 ? ar.currentline : 0;
}

/* A case of this file other than self called name, or NULL. */
static const vd_ptest_case_t *same_name(const vd_ptest_reader_t *r, const char *name,
                                        const vd_ptest_case_t *self) {
    const vd_vec_t *cases = &r->suite->cases;
    for (size_t i = r->file->first; i < cases->len; i++)
        if (&VD_VEC_AT(*cases, vd_ptest_case_t, i) != self &&
            strcmp(VD_VEC_AT(*cases, vd_ptest_case_t, i).name, name) == 0)
            return &VD_VEC_AT(*cases, vd_ptest_case_t, i);
    return NULL;
}

/* Reads a case, protected: arguments the reader, the case, its table and its name. */
static int read_protected(lua_State *L) {
    vd_ptest_reader_t *r = lua_touserdata(L, 1);
    vd_ptest_case_t *c = lua_touserdata(L, 2);
    if (!lua_istable(L, 3))
        vd_ptest_raise(L, r, 0, "test needs a table: test \"name\" { event = ..., expect = ... }");
    const vd_ptest_case_t *twin = same_name(r, r->case_name, c);
    if (twin) vd_ptest_raise(L, r, 0, "a case of this name is declared at line %d", twin->line);
    c->name = vd_ptest_string(L, r, 4, "name", NULL);
    c->file = r->file->path;
    c->line = r->case_line;
    vd_ptest_read_case(L, r, c, 3);
    return 0;
}

/* The table given to `test "name"`; upvalues: the reader, the name and the line. A case that
 * cannot be read is dropped, and its error stays the file's even if the file catches it with
 * pcall: a case that silently disappeared would pass unnoticed. */
static int test_body(lua_State *L) {
    vd_ptest_reader_t *r = lua_touserdata(L, lua_upvalueindex(1));
    lua_settop(L, 1); /* the table (or nil, for the message) */
    if (r->case_name) return luaL_error(L, "test: called while case '%s' was read", r->case_name);
    r->case_name = lua_tostring(L, lua_upvalueindex(2));
    r->case_line = (int)lua_tointeger(L, lua_upvalueindex(3));
    vd_vec_t *cases = &r->suite->cases;
    uint32_t before = cases->len;
    vd_ptest_case_t *c = vd_vec_push(cases, &r->suite->arena, sizeof *c);
    if (!c) {
        r->case_name = NULL;
        vd_ptest_nomem(L);
    }
    lua_pushcfunction(L, read_protected);
    lua_pushlightuserdata(L, r);
    lua_pushlightuserdata(L, c);
    lua_pushvalue(L, 1);
    lua_pushvalue(L, lua_upvalueindex(2));
    int rc = lua_pcall(L, 4, 0, 0);
    r->case_name = NULL;
    r->key = NULL;
    r->key_from = 0;
    if (rc == LUA_OK) return 0;
    cases->len = before;
    if (!r->error && lua_type(L, -1) == LUA_TSTRING)
        r->error = vd_arena_strndup(&r->suite->arena, lua_tostring(L, -1), lua_rawlen(L, -1));
    return lua_error(L);
}

/* test "name" { ... }, or test("name", { ... }). */
static int test_decl(lua_State *L) {
    vd_ptest_reader_t *r = lua_touserdata(L, lua_upvalueindex(1));
    int line = line_of_caller(L), given = lua_gettop(L) > 1;
    if (lua_type(L, 1) != LUA_TSTRING || lua_rawlen(L, 1) == 0)
        return luaL_error(L, "%s:%d: test needs a name: test \"name\" { ... }", r->file->path,
                          line);
    lua_pushvalue(L, lua_upvalueindex(1));
    lua_pushvalue(L, 1);
    lua_pushinteger(L, line);
    lua_pushcclosure(L, test_body, 3);
    if (!given) return 1;
    lua_pushvalue(L, 2);
    lua_call(L, 1, 0);
    return 0;
}

/* The globals of a test file: the sandbox's, without os, and test, merge, absent and ago. */
static void open_globals(lua_State *L, vd_ptest_reader_t *r) {
    lua_newtable(L);
    lua_rawsetp(L, LUA_REGISTRYINDEX, &ago_mark);
    lua_pushcfunction(L, ago);
    lua_setglobal(L, "ago");
    lua_pushnil(L);
    lua_setglobal(L, "os");
    lua_pushlightuserdata(L, r);
    lua_pushcclosure(L, test_decl, 1);
    lua_setglobal(L, "test");
    lua_pushcfunction(L, merge);
    lua_setglobal(L, "merge");
    lua_pushlightuserdata(L, (void *)&absent_mark);
    lua_setglobal(L, "absent");
}

/* The file's name without its directory and "_test.lua": the pipeline its cases test unless
 * they say otherwise. */
static const char *pipeline_of(vd_ptest_suite_t *s, const char *path) {
    const char *base = strrchr(path, '/');
    base = base ? base + 1 : path;
    size_t n = strlen(base), suffix = strlen("_test.lua");
    return n > suffix ? vd_arena_strndup(&s->arena, base, n - suffix) : NULL;
}

/* Every case's lines, each searched up to the next case declared below it. */
static void locate_cases(vd_ptest_reader_t *r) {
    vd_vec_t *cases = &r->suite->cases;
    for (size_t i = r->file->first; i < cases->len; i++) {
        vd_ptest_case_t *c = &VD_VEC_AT(*cases, vd_ptest_case_t, i);
        int to = 0;
        for (size_t j = i + 1; j < cases->len && !to; j++)
            if (VD_VEC_AT(*cases, vd_ptest_case_t, j).line > c->line)
                to = VD_VEC_AT(*cases, vd_ptest_case_t, j).line;
        vd_ptest_locate_case(r, c, to);
    }
}

/* Runs the file; what goes wrong in it (its Lua memory cap included) is the file's error. */
static int run(lua_State *L, vd_ptest_reader_t *r, const char *text, size_t len) {
    char chunk[4200];
    snprintf(chunk, sizeof chunk, "@%s", r->file->path);
    int rc = luaL_loadbufferx(L, text, len, chunk, "t");
    if (rc == LUA_OK) rc = vd_lua_pcall(L, 0, 0);
    if (rc == LUA_OK && !r->error) return 0;
    const char *msg = rc == LUA_OK ? r->error : lua_tostring(L, -1);
    if (!msg) msg = "error object is not a string";
    vd_ptest_suite_t *s = r->suite;
    if (!(r->file->error = vd_arena_strndup(&s->arena, msg, strlen(msg)))) return VD_ENOMEM;
    s->cases.len = (uint32_t)r->file->first;
    return 0;
}

int vd_ptest_read(vd_ptest_suite_t *s, vd_ptest_file_t *f, const char *text, size_t len) {
    vd_lua_limits_t limits = {
        .mem_limit = TEST_FILE_MEMORY,
        .instr_limit = s->instr_limit ? s->instr_limit : TEST_FILE_INSTRUCTIONS,
        .regex_limit = 100000,
        .data_dir = s->data_dir,
    };
    lua_State *L = vd_lua_new(&limits);
    if (!L) return VD_ENOMEM;
    vd_ptest_reader_t r = {.suite = s,
                           .file = f,
                           .src = text,
                           .len = len,
                           .default_pipeline = pipeline_of(s, f->path)};
    msgpack_sbuffer_init(&r.sb);
    open_globals(L, &r);
    int rc = run(L, &r, text, len);
    if (rc == 0 && !f->error) locate_cases(&r);
    msgpack_sbuffer_destroy(&r.sb);
    vd_lua_close(L);
    return rc;
}
