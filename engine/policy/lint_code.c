#include "lint_code.h"

#include "base/error.h"
#include "base/suggest.h"
#include "lua/chunk.h"
#include "lua/lua_lists.h"
#include "lua/readonly.h"
#include "lua/upvalue_writes.h"

#include <lauxlib.h>
#include <stdio.h>
#include <string.h>

#define MAX_FIELDS 4

/* A global named in code: its name, the line, whether it is assigned, and the constant fields
 * read through it right after (verdict.list.ips: "list", "ips"). */
typedef struct access {
    const char *name;
    size_t len;
    int line, write, nfields;
    const char *field[MAX_FIELDS];
    size_t flen[MAX_FIELDS];
} access_t;

typedef void (*access_fn)(void *ud, const access_t *a);

/* The constant fields read one after the other from the register a global was read into:
 * GETFIELD R[A'] := R[A][K[C]], each from the register the one before wrote. */
static void fields_after(const vd_chunk_fn_t *f, size_t pc, access_t *a) {
    unsigned reg = vd_op_a(vd_chunk_ins(f, pc));
    for (size_t at = pc + 1; at < f->ncode && a->nfields < MAX_FIELDS; at++) {
        uint32_t ins = vd_chunk_ins(f, at);
        if (vd_op(ins) != VD_OP_GETFIELD || vd_op_b(ins) != reg) return;
        const char *name = vd_chunk_kstr(f, vd_op_c(ins), &a->flen[a->nfields]);
        if (!name) return;
        a->field[a->nfields++] = name;
        reg = vd_op_a(ins);
    }
}

/* Calls fn for each global f (and the functions it defines) reads or writes: GETTABUP and
 * SETTABUP on an upvalue that is the global table (env[i] set for upvalue i) with a constant
 * string key. A nested function's upvalue is the global table when it is that of f. */
static void scan_proto(const vd_chunk_fn_t *f, const uint8_t env[256], access_fn fn, void *ud) {
    for (size_t pc = 0; pc < f->ncode; pc++) {
        uint32_t ins = vd_chunk_ins(f, pc);
        unsigned up, key;
        if (vd_op(ins) == VD_OP_GETTABUP)
            up = vd_op_b(ins), key = vd_op_c(ins);
        else if (vd_op(ins) == VD_OP_SETTABUP)
            up = vd_op_a(ins), key = vd_op_b(ins);
        else
            continue;
        access_t a = {.write = vd_op(ins) == VD_OP_SETTABUP, .line = vd_chunk_line(f, pc)};
        a.name = vd_chunk_kstr(f, key, &a.len);
        if (up >= f->nup || !env[up] || !a.name) continue;
        if (!a.write) fields_after(f, pc, &a);
        fn(ud, &a);
    }
    for (size_t i = 0; i < f->nprotos; i++) {
        const vd_chunk_fn_t *inner = &f->protos[i];
        uint8_t in[256] = {0};
        for (size_t j = 0; j < inner->nup && j < 256; j++)
            in[j] = !inner->up[j].instack && inner->up[j].idx < f->nup && env[inner->up[j].idx];
        scan_proto(inner, in, fn, ud);
    }
}

/* Reads the code of the Lua function at idx, whose upvalues holding the global table (the one
 * at env or its original at globals) mark where globals are read and written. Returns 0,
 * VD_EINVAL (the code could not be read) or VD_ENOMEM. */
static int scan_function(lua_State *L, int idx, int env, int globals, access_fn fn, void *ud) {
    vd_chunk_t c;
    int rc = vd_chunk_dump(L, idx, 0, &c);
    if (rc == 0) {
        uint8_t is_env[256] = {0};
        for (int n = 1; n <= 256 && lua_getupvalue(L, idx, n); n++) {
            is_env[n - 1] = lua_rawequal(L, -1, env) || lua_rawequal(L, -1, globals);
            lua_pop(L, 1);
        }
        scan_proto(&c.main, is_env, fn, ud);
    }
    vd_chunk_close(&c);
    return rc;
}

/* 1 when the function at idx starts by returning a true constant (a number, a string or
 * true): its code is [VARARGPREP] LOADTRUE/LOADI/LOADF/LOADK A, then RETURN1 A or RETURN A with
 * at least one value. 0 otherwise, -1 when the code cannot be read. */
static int always_true_at(lua_State *L, int idx) {
    vd_chunk_t c;
    int rc = vd_chunk_dump(L, idx, 1, &c), yes = 0;
    const vd_chunk_fn_t *f = &c.main;
    size_t pc = 0;
    if (rc == 0 && f->ncode > 0 && vd_op(vd_chunk_ins(f, 0)) == VD_OP_VARARGPREP) pc = 1;
    if (rc == 0 && pc + 1 < f->ncode) {
        uint32_t load = vd_chunk_ins(f, pc), ret = vd_chunk_ins(f, pc + 1);
        unsigned op = vd_op(load), a = vd_op_a(load);
        int truthy =
            op == VD_OP_LOADTRUE || op == VD_OP_LOADI || op == VD_OP_LOADF ||
            (op == VD_OP_LOADK && vd_op_bx(load) < f->nk && f->k[vd_op_bx(load)].type != VD_K_NIL &&
             f->k[vd_op_bx(load)].type != VD_K_FALSE);
        int returns_it = vd_op_a(ret) == a && (vd_op(ret) == VD_OP_RETURN1 ||
                                               (vd_op(ret) == VD_OP_RETURN && vd_op_b(ret) != 1));
        yes = truthy && returns_it;
    }
    vd_chunk_close(&c);
    return rc ? -1 : yes;
}

/* ---- the probe: does this build's code read as expected? ---- */

typedef struct probe {
    int read, write, other;
} probe_t;

static void on_probe(void *ud, const access_t *a) {
    probe_t *p = ud;
    if (!a->write && a->line == 1 && a->len == 10 && memcmp(a->name, "probe_read", 10) == 0 &&
        a->nfields == 2 && a->flen[1] == 2 && memcmp(a->field[1], "xy", 2) == 0)
        p->read++;
    else if (a->write && a->line == 2 && a->len == 11 && memcmp(a->name, "probe_write", 11) == 0)
        p->write++;
    else
        p->other++;
}

/* Compiles text and leaves its function on the stack; 0 when that failed (nothing pushed). */
static int compile(lua_State *L, const char *text) {
    if (luaL_loadbufferx(L, text, strlen(text), "=lint probe", "t") == LUA_OK) return 1;
    lua_pop(L, 1);
    return 0;
}

/* Known code read back as the lint expects: the globals and lines a chunk names, and what
 * always returns true. Anything else (another Lua build's format or opcodes) and the checks on
 * code are skipped rather than guessed. */
static int probe(lua_State *L, int env, int globals) {
    probe_t pr = {0};
    int ok = compile(L, "local a = probe_read.f.xy\nprobe_write = a\n");
    if (ok) {
        ok = scan_function(L, -1, env, globals, on_probe, &pr) == 0 && pr.read == 1 &&
             pr.write == 1 && pr.other == 0;
        lua_pop(L, 1);
    }
    if (ok && (ok = compile(L, "return true"))) {
        ok = always_true_at(L, -1) == 1;
        lua_pop(L, 1);
    }
    if (ok && (ok = compile(L, "local x = ... return x"))) {
        ok = always_true_at(L, -1) == 0;
        lua_pop(L, 1);
    }
    return ok;
}

/* ---- the walk from the rules ---- */

typedef struct walk {
    lua_State *L;
    vd_lint_report_t *out;
    int env, globals, seen, queue; /* stack slots */
    int locals;                    /* stack slot: names of the file-level locals rules use */
    lua_Integer nqueued;
    char file[LUA_IDSIZE]; /* of the function whose code is being read */
    int all_globals;       /* some code reads _G: every global may be used */
    int unreadable;        /* functions whose code could not be read */
    int rc;
} walk_t;

/* Marks the value at idx as met; returns 1 when it had been met before. */
static int met(walk_t *w, int idx) {
    lua_State *L = w->L;
    idx = lua_absindex(L, idx);
    lua_pushvalue(L, idx);
    int before = lua_rawget(L, w->seen) != LUA_TNIL;
    lua_pop(L, 1);
    if (before) return 1;
    lua_pushvalue(L, idx);
    lua_pushboolean(L, 1);
    lua_rawset(L, w->seen);
    return 0;
}

/* Queues the value at idx (a table, function or userdata) unless it was met before. */
static void discover(walk_t *w, int idx) {
    lua_State *L = w->L;
    int t = lua_type(L, idx);
    if (t != LUA_TTABLE && t != LUA_TFUNCTION && t != LUA_TUSERDATA) return;
    idx = lua_absindex(L, idx);
    if (met(w, idx)) return;
    lua_pushvalue(L, idx);
    lua_rawseti(L, w->queue, ++w->nqueued);
}

/* The message's "(did you mean 'x'?)" for an undefined global: the closest defined one. */
static void closest_global(walk_t *w, const char *name, char *buf, size_t cap) {
    lua_State *L = w->L;
    vd_suggest_t sg;
    vd_suggest_init(&sg, name);
    for (int t = 0; t < 2; t++) { /* the globals, and the policy's locals rules use */
        lua_pushnil(L);
        while (lua_next(L, t ? w->locals : w->globals)) {
            lua_pop(L, 1);
            if (lua_type(L, -1) == LUA_TSTRING) vd_suggest_offer(&sg, lua_tostring(L, -1));
        }
    }
    vd_suggest_hint(&sg, " (did you mean '%s'?)", buf, cap);
}

/* The verdict library's fields a rule reads (verdict.labelled for verdict.labeled) exist: the
 * library is the engine's, so a field it lacks is a typo that fails the rule at run time. */
static void check_fields(walk_t *w, const access_t *a) {
    lua_State *L = w->L;
    if (a->len != 7 || memcmp(a->name, "verdict", 7) != 0 || !a->nfields) return;
    int top = lua_gettop(L);
    lua_pushlstring(L, a->name, a->len);
    lua_rawget(L, w->globals);
    char path[160] = "verdict";
    for (int i = 0; i < a->nfields && lua_type(L, -1) == LUA_TTABLE; i++) {
        int table = lua_gettop(L);
        if (vd_lua_readonly_original(L, table)) lua_replace(L, table);
        lua_pushlstring(L, a->field[i], a->flen[i]);
        if (lua_rawget(L, table) == LUA_TNIL) {
            vd_suggest_t sg;
            char want[64], hint[VD_SUGGEST_HINT];
            snprintf(want, sizeof want, "%.*s", (int)(a->flen[i] < 60 ? a->flen[i] : 60),
                     a->field[i]);
            vd_suggest_init(&sg, want);
            for (lua_pushnil(L); lua_next(L, table); lua_pop(L, 1))
                if (lua_type(L, -2) == LUA_TSTRING) vd_suggest_offer(&sg, lua_tostring(L, -2));
            vd_suggest_hint(&sg, " (did you mean '%s'?)", hint, sizeof hint);
            w->rc = vd__lint_add(w->out, VD_LINT_UNKNOWN_FIELD, w->file, a->line,
                                 "rule code reads %s.%s, which the verdict library does not "
                                 "have%s: the rule fails whenever it gets there",
                                 path, want, hint);
            break;
        }
        size_t n = strlen(path);
        snprintf(path + n, sizeof path - n, ".%.*s", (int)(a->flen[i] < 40 ? a->flen[i] : 40),
                 a->field[i]);
    }
    lua_settop(L, top);
}

static void on_access(void *ud, const access_t *acc) {
    walk_t *w = ud;
    lua_State *L = w->L;
    const char *name = acc->name;
    size_t len = acc->len;
    int line = acc->line, write = acc->write;
    char global[128];
    snprintf(global, sizeof global, "%.*s", (int)(len < 100 ? len : 100), name);
    if (w->rc) return;
    if (write) {
        w->rc = vd__lint_add(w->out, VD_LINT_GLOBAL_WRITE, w->file, line,
                             "rule code assigns the global '%s': globals are read-only while "
                             "rules run, so this fails whenever it runs (use a local, or ctx:set "
                             "for later rules)",
                             global);
        return;
    }
    if (len == 2 && memcmp(name, "_G", 2) == 0 && !w->all_globals) {
        w->all_globals = 1; /* _G[name]: no telling which */
        lua_pushvalue(L, w->globals);
        lua_rawseti(L, w->queue, ++w->nqueued);
    }
    lua_pushlstring(L, name, len);
    if (lua_rawget(L, w->globals) != LUA_TNIL) {
        discover(w, -1); /* what the rule reads through it is used */
        lua_pop(L, 1);
        check_fields(w, acc);
        return;
    }
    lua_pop(L, 1);
    char hint[VD_SUGGEST_HINT];
    closest_global(w, global, hint, sizeof hint);
    w->rc = vd__lint_add(w->out, VD_LINT_UNDEFINED_GLOBAL, w->file, line,
                         "rule code reads the global '%s', which no policy file defines%s: the "
                         "rule fails whenever it gets there",
                         global, hint);
}

/* Rule code that assigns a file-level local (an upvalue other than _ENV): after loading, the
 * policy's values are frozen, and the assignment fails the rule each time it runs. */
static void local_writes(walk_t *w, int idx, int line) {
    lua_State *L = w->L;
    uint8_t written[32];
    if (vd_lua_upvalue_writes(L, idx, written) != 0) return; /* unreadable: counted below */
    const char *name;
    for (int n = 1; n <= 255 && !w->rc && (name = lua_getupvalue(L, idx, n)) != NULL; n++) {
        lua_pop(L, 1);
        if (!(written[(n - 1) / 8] & (1u << ((n - 1) % 8))) || strcmp(name, "_ENV") == 0) continue;
        w->rc = vd__lint_add(w->out, VD_LINT_LOCAL_WRITE, w->file, line,
                             "code run by rules assigns '%s', a local of the policy file: what "
                             "a policy set up is read-only while rules run, so this fails "
                             "whenever it runs (use a local of the function, or ctx:set)",
                             name);
    }
}

static void read_code(walk_t *w, int idx) {
    lua_State *L = w->L;
    lua_Debug ar;
    lua_pushvalue(L, idx);
    lua_getinfo(L, ">S", &ar);
    snprintf(w->file, sizeof w->file, "%s", ar.short_src);
    local_writes(w, idx, ar.linedefined);
    int rc = scan_function(L, idx, w->env, w->globals, on_access, w);
    if (rc == VD_ENOMEM && !w->rc) w->rc = rc;
    w->unreadable += rc == VD_EINVAL;
}

/* Queues everything the value at idx refers to; reads a Lua function's code. */
static void visit(walk_t *w, int idx) {
    lua_State *L = w->L;
    switch (lua_type(L, idx)) {
    case LUA_TFUNCTION:
        if (!lua_iscfunction(L, idx)) read_code(w, idx);
        for (int n = 1; lua_getupvalue(L, idx, n); n++) {
            discover(w, -1);
            lua_pop(L, 1);
        }
        break;
    case LUA_TTABLE:
        if (vd_lua_readonly_original(L, idx)) { /* what a frozen table holds is its original's */
            discover(w, -1);
            lua_pop(L, 1);
            break;
        }
        lua_pushnil(L);
        while (lua_next(L, idx)) {
            discover(w, -2);
            discover(w, -1);
            lua_pop(L, 1);
        }
        if (lua_getmetatable(L, idx)) {
            discover(w, -1);
            lua_pop(L, 1);
        }
        break;
    case LUA_TUSERDATA: /* a verdict.when condition holds its set or list as a user value */
        for (int n = 1; lua_getiuservalue(L, idx, n) != LUA_TNONE; n++) {
            discover(w, -1);
            lua_pop(L, 1);
        }
        lua_pop(L, 1);
        break;
    }
}

/* Notes the names of the upvalues of the function at idx (the file-level locals it uses), for
 * "did you mean": a misspelt local reads as an undefined global. */
static void note_locals(walk_t *w, int idx) {
    lua_State *L = w->L;
    const char *name;
    for (int n = 1; n <= 255 && (name = lua_getupvalue(L, idx, n)) != NULL; n++) {
        lua_pop(L, 1);
        if (strcmp(name, "_ENV") == 0 || !*name) continue;
        lua_pushboolean(L, 1);
        lua_setfield(L, w->locals, name);
    }
}

static void walk_rules(walk_t *w, const vd_policy_t *p) {
    lua_State *L = w->L;
    for (size_t i = 0; i < p->nrules; i++) { /* the locals first: a report may name them */
        const int refs[] = {p->rules[i].when_ref, p->rules[i].score_ref};
        for (int k = 0; k < 2; k++) {
            if (refs[k] == LUA_NOREF) continue;
            lua_rawgeti(L, LUA_REGISTRYINDEX, refs[k]);
            if (lua_type(L, -1) == LUA_TFUNCTION) note_locals(w, lua_gettop(L));
            lua_pop(L, 1);
        }
    }
    for (size_t i = 0; i < p->nrules; i++) {
        const int refs[] = {p->rules[i].when_ref, p->rules[i].score_ref};
        for (int k = 0; k < 2; k++) {
            if (refs[k] == LUA_NOREF) continue;
            lua_rawgeti(L, LUA_REGISTRYINDEX, refs[k]);
            discover(w, -1);
            lua_pop(L, 1);
        }
    }
    for (lua_Integer i = 1; i <= w->nqueued && !w->rc; i++) {
        lua_rawgeti(L, w->queue, i);
        visit(w, lua_gettop(L));
        lua_pop(L, 1);
    }
}

/* Lists opened while loading that the walk did not reach (or that nothing refers to at all,
 * gone from the weak table). */
static void unused_lists(walk_t *w) {
    lua_State *L = w->L;
    if (lua_getfield(L, LUA_REGISTRYINDEX, VD_LUA_LIST_DECLS) != LUA_TTABLE) {
        lua_pop(L, 1); /* the policy opened no list */
        return;
    }
    int decls = lua_gettop(L);
    lua_getfield(L, decls, "lists");
    lua_Integer n = (lua_Integer)lua_rawlen(L, decls);
    for (lua_Integer i = 1; i <= n && !w->rc; i++) {
        lua_rawgeti(L, decls + 1, i);
        int used = !lua_isnil(L, -1) && lua_rawget(L, w->seen) != LUA_TNIL;
        lua_pop(L, 1);
        if (used) continue;
        lua_rawgeti(L, decls, i);
        lua_getfield(L, -1, "file");
        lua_getfield(L, -2, "line");
        lua_getfield(L, -3, "path");
        w->rc = vd__lint_add(
            w->out, VD_LINT_UNUSED_LIST, lua_isstring(L, -3) ? lua_tostring(L, -3) : "?",
            (int)lua_tointeger(L, -2), "the list '%s' is opened here, but no rule uses it",
            lua_isstring(L, -1) ? lua_tostring(L, -1) : "?");
        lua_pop(L, 4);
    }
    lua_pop(L, 2);
}

int vd__lint_code(lua_State *L, vd_policy_t *p, vd_lint_report_t *out, vd_lint_code_t *code) {
    luaL_checkstack(L, 40, "policy lint");
    lua_gc(L, LUA_GCCOLLECT); /* lists nothing refers to leave the declarations' weak table */
    walk_t w = {.L = L, .out = out};
    lua_rawgeti(L, LUA_REGISTRYINDEX, LUA_RIDX_GLOBALS);
    w.env = lua_gettop(L);
    if (!vd_lua_readonly_original(L, w.env)) lua_pushvalue(L, w.env);
    w.globals = lua_gettop(L);
    code->readable = probe(L, w.env, w.globals);
    if (!code->readable)
        return vd__lint_add(out, VD_LINT_NOT_CHECKED, p->src->dir, 0,
                            "this Lua build's compiled code is not in the format the lint reads "
                            "(Lua 5.4): undefined globals, global writes, unused lists and rules "
                            "after a stop were not checked");
    lua_newtable(L);
    w.seen = lua_gettop(L);
    lua_newtable(L);
    w.queue = lua_gettop(L);
    lua_newtable(L);
    w.locals = lua_gettop(L);
    /* Every function holds the global table as _ENV: walking it would make every global look
     * used. A global is used when code names it (on_access). */
    met(&w, w.env);
    met(&w, w.globals);
    walk_rules(&w, p);
    unused_lists(&w);
    if (!w.rc && w.unreadable)
        w.rc = vd__lint_add(out, VD_LINT_NOT_CHECKED, p->src->dir, 0,
                            "the compiled code of %d function(s) could not be read: the globals "
                            "they use were not checked",
                            w.unreadable);
    return w.rc;
}

int vd__lint_always_true(lua_State *L, const vd_lint_code_t *code, int ref) {
    if (!code->readable || ref == LUA_NOREF) return 0;
    lua_rawgeti(L, LUA_REGISTRYINDEX, ref);
    int yes =
        lua_type(L, -1) == LUA_TFUNCTION && !lua_iscfunction(L, -1) && always_true_at(L, -1) == 1;
    lua_pop(L, 1);
    return yes;
}
