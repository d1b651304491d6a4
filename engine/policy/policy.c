#include "policy.h"

#include "base/error.h"
#include "base/suggest.h"
#include "compile.h"
#include "dsl.h"
#include "lua/freeze.h"
#include "lua/readonly.h"

#include <lauxlib.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int ends_with(const char *s, const char *suffix) {
    size_t n = strlen(s), m = strlen(suffix);
    return n >= m && strcmp(s + n - m, suffix) == 0;
}

/* Runs one policy file; on error copies Lua's "file:line: message" into err. */
static int run_file(lua_State *L, const vd_policy_src_t *src, const vd_src_file_t *f, char *err,
                    size_t errlen) {
    char chunk[4200];
    snprintf(chunk, sizeof chunk, "@%s/%s", src->dir, f->path);
    int rc = luaL_loadbufferx(L, f->data, f->len, chunk, "t");
    if (rc == LUA_OK) rc = vd_lua_pcall(L, 0, 0);
    if (rc == LUA_OK) return 0;
    const char *msg = lua_tostring(L, -1);
    snprintf(err, errlen, "%s", msg ? msg : "error object is not a string");
    lua_pop(L, 1);
    return rc == LUA_ERRMEM ? VD_ENOMEM : VD_EPOLICY;
}

static const char *find_file(void *ud, const char *path, size_t *len) {
    const vd_src_file_t *f = vd_policy_src_find(ud, path);
    if (!f) return NULL;
    *len = f->len;
    return f->data;
}

/* Reading a global nobody defined: a misspelt name, most often, so the message offers the
 * closest defined one (the global table is argument 1). */
static int undefined_global(lua_State *L) {
    const char *name = luaL_optstring(L, 2, "?");
    vd_suggest_t sg;
    vd_suggest_init(&sg, name);
    if (lua_type(L, 1) == LUA_TTABLE) {
        lua_pushnil(L);
        while (lua_next(L, 1)) {
            lua_pop(L, 1);
            if (lua_type(L, -1) == LUA_TSTRING) vd_suggest_offer(&sg, lua_tostring(L, -1));
        }
    }
    char hint[VD_SUGGEST_HINT];
    return luaL_error(L, "undefined global '%s'%s", name,
                      vd_suggest_hint(&sg, " (did you mean '%s'?)", hint, sizeof hint));
}

static int global_write(lua_State *L) {
    vd_lua_where(L);
    lua_pushfstring(L,
                    "rules cannot create or change globals at run time ('%s'); keep "
                    "per-request values in locals or ctx:set",
                    luaL_optstring(L, 2, "?"));
    lua_concat(L, 2);
    return lua_error(L);
}

/* After loading, reading an unknown global raises (a typo in a rule); writing any global is
 * refused by the global table's read-only proxy with this message. */
static void refuse_unknown_globals(lua_State *L) {
    lua_pushglobaltable(L);
    lua_createtable(L, 0, 1);
    lua_pushcfunction(L, undefined_global);
    lua_setfield(L, -2, "__index");
    lua_setmetatable(L, -2);
    lua_pop(L, 1);
}

/* Makes everything the policy built read-only for the requests to come (lua/freeze.h). */
static int freeze(vd_policy_t *p, char *err, size_t errlen) {
    int *refs = malloc((2 * p->nrules + 1) * sizeof *refs);
    if (!refs) {
        snprintf(err, errlen, "out of memory freezing the policy");
        return VD_ENOMEM;
    }
    size_t n = 0;
    for (size_t i = 0; i < p->nrules; i++) {
        if (p->rules[i].when_ref != LUA_NOREF) refs[n++] = p->rules[i].when_ref;
        if (p->rules[i].score_ref != LUA_NOREF) refs[n++] = p->rules[i].score_ref;
    }
    refuse_unknown_globals(p->L);
    int rc = vd_lua_freeze(p->L, refs, n, global_write, err, errlen);
    free(refs);
    return rc == 0 ? 0 : VD_ENOMEM;
}

typedef struct compile_call {
    vd_policy_t *p;
    char *err;
    size_t errlen;
    int rc;
} compile_call_t;

static int compile_body(lua_State *L) {
    compile_call_t *c = lua_touserdata(L, 1);
    c->rc = vd_policy_compile(c->p, c->err, c->errlen);
    return 0;
}

/* Compiling reads the declarations' tables, and a table with a metatable runs policy code:
 * protected and under the budget, so that a failing or endless __index is a policy error with
 * its file:line, not the end of a running daemon at a reload. */
static int compile(vd_policy_t *p, char *err, size_t errlen) {
    compile_call_t c = {p, err, errlen, 0};
    lua_pushcfunction(p->L, compile_body);
    lua_pushlightuserdata(p->L, &c);
    int status = vd_lua_pcall(p->L, 1, 0);
    if (status == LUA_OK) return c.rc;
    const char *msg = lua_tostring(p->L, -1);
    snprintf(err, errlen, "%s", msg ? msg : "error object is not a string");
    lua_pop(p->L, 1);
    return status == LUA_ERRMEM ? VD_ENOMEM : VD_EPOLICY;
}

int vd_policy_load(vd_policy_src_t *src, const vd_lua_limits_t *limits, void *plugins,
                   vd_policy_t **out, char *err, size_t errlen) {
    vd_policy_t *p = calloc(1, sizeof *p);
    if (!p || !(p->L = vd_lua_new(limits))) {
        free(p);
        snprintf(err, errlen, "out of memory creating the Lua state");
        return VD_ENOMEM;
    }
    p->refs = 1;
    p->src = src;
    p->plugins = plugins;
    vd_policy_src_ref(src);
    vd_lstate_t *ls = vd_lua_ls(p->L);
    ls->files = (vd_lua_files_t){src->dir, find_file, src};
    ls->loading = 1;
    vd_dsl_open(p->L);
    int rc = 0, nlua = 0;
    for (size_t i = 0; i < src->nfiles && rc == 0; i++) {
        if (!ends_with(src->files[i].path, ".lua")) continue;
        nlua++;
        rc = run_file(p->L, src, &src->files[i], err, errlen);
    }
    ls->loading = 0;
    ls->files = (vd_lua_files_t){0};
    if (rc == 0 && nlua == 0) {
        snprintf(err, errlen, "%s: no policy files (*.lua) found", src->dir);
        rc = VD_EPOLICY;
    }
    if (rc == 0) rc = compile(p, err, errlen);
    if (rc == 0) rc = freeze(p, err, errlen);
    if (rc != 0) {
        vd_policy_unref(p);
        return rc;
    }
    lua_gc(p->L, LUA_GCCOLLECT);
    /* Requests leave short-lived garbage (strings, views) around long-lived policy data: the
     * generational collector mostly sweeps the young objects only. */
    lua_gc(p->L, LUA_GCGEN, 0, 0);
    *out = p;
    return 0;
}

const vd_pipeline_t *vd_policy_pipeline(const vd_policy_t *p, const char *name, size_t len) {
    for (size_t i = 0; i < p->npipelines; i++) {
        const char *n = p->pipelines[i].name;
        if (strncmp(n, name, len) == 0 && n[len] == '\0') return &p->pipelines[i];
    }
    return NULL;
}

const char *vd_policy_version(const vd_policy_t *p) {
    return p->src->version;
}

void vd_policy_ref(vd_policy_t *p) {
    p->refs++;
}

void vd_policy_unref(vd_policy_t *p) {
    if (!p || --p->refs > 0) return;
    vd_policy_compiled_free(p);
    vd_lua_close(p->L);
    vd_policy_src_unref(p->src);
    free(p);
}
