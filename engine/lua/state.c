#include "state.h"

#include "lua_anomaly.h"
#include "lua_campaign.h"
#include "lua_ctx.h"
#include "lua_helpers.h"
#include "lua_ip.h"
#include "lua_lists.h"
#include "lua_profile.h"
#include "lua_re.h"
#include "lua_sets.h"
#include "lua_store.h"
#include "lua_view.h"
#include "lua_when.h"

#include "base/clock.h"
#include "freeze.h"
#include "readonly.h"

#include <lauxlib.h>
#include <lualib.h>
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

static const char *stop_reason(vd_lstate_t *ls, char *buf, size_t cap) {
    switch (ls->stop) {
    case VD_LUA_STOP_BUDGET:
        snprintf(buf, cap, "instruction budget exceeded (%lld instructions): an endless loop?",
                 (long long)ls->limits.instr_limit);
        break;
    case VD_LUA_STOP_DEADLINE:
        snprintf(buf, cap, "deadline passed while the rule ran");
        break;
    default:
        snprintf(buf, cap,
                 "out of memory: the rule holds too much (a call may add %zu MiB, the "
                 "policy's Lua state may hold %zu MiB)",
                 ls->limits.call_mem_limit >> 20, ls->limits.mem_limit >> 20);
    }
    return buf;
}

static void budget_hook(lua_State *L, lua_Debug *ar) {
    vd_lstate_t *ls = vd_lua_ls(L);
    if (ls->stop == VD_LUA_RUNS) {
        ls->budget_left -= ls->hook_step;
        if (ls->mem_over)
            ls->stop = VD_LUA_STOP_MEMORY;
        else if (ls->budget_left <= 0)
            ls->stop = VD_LUA_STOP_BUDGET;
        else if (ls->deadline_ns && vd_now_ns() > ls->deadline_ns)
            ls->stop = VD_LUA_STOP_DEADLINE;
        else {
            ls->hook_step =
                ls->budget_left < VD_LUA_HOOK_STEP ? (int)ls->budget_left : VD_LUA_HOOK_STEP;
            lua_sethook(L, budget_hook, LUA_MASKCOUNT, ls->hook_step);
            return;
        }
    }
    /* Keep firing on every instruction so a rule cannot pcall its way past the stop. */
    lua_sethook(L, budget_hook, LUA_MASKCOUNT, 1);
    char why[160];
    lua_getinfo(L, "Sl", ar);
    luaL_error(L, "%s:%d: %s", ar->short_src, ar->currentline, stop_reason(ls, why, sizeof why));
}

/* The host owns the allocator: every byte a state holds is counted against its cap, so a rule
 * that allocates without bound fails with a memory error instead of taking the process down. */
static void *capped_alloc(void *ud, void *ptr, size_t osize, size_t nsize) {
    vd_lstate_t *ls = ud;
    size_t old = ptr ? osize : 0;
    if (nsize == 0) {
        free(ptr);
        ls->mem_used -= old;
        return NULL;
    }
    if (nsize > old && ls->limits.mem_limit) {
        size_t after = ls->mem_used + (nsize - old);
        if (after > ls->limits.mem_limit) return NULL;
        if (after > ls->mem_soft && ls->running && !ls->mem_over) {
            /* Stop the call at its next instruction, with its file and line; the headroom
             * above mem_soft lets it unwind and report. lua_sethook is safe at any point. */
            ls->mem_over = 1;
            lua_sethook(ls->running, budget_hook, LUA_MASKCOUNT, 1);
        }
    }
    void *p = realloc(ptr, nsize);
    if (!p) return NULL;
    ls->mem_used = ls->mem_used - old + nsize;
    return p;
}

void vd_lua_charge(lua_State *L, size_t bytes) {
    vd_lstate_t *ls = vd_lua_ls(L);
    if (!ls->running) return;
    ls->budget_left -= (int64_t)(bytes >> 6);
    int stop =
        ls->budget_left <= 0 || (bytes >= 4096 && ls->deadline_ns && vd_now_ns() > ls->deadline_ns);
    if (stop) lua_sethook(ls->running, budget_hook, LUA_MASKCOUNT, 1);
}

/* A library function whose work grows with its strings (upvalue: the function), charged by
 * the bytes it took and gave. */
static int charged(lua_State *L) {
    int n = lua_gettop(L);
    size_t bytes = 0;
    for (int i = 1; i <= n; i++)
        if (lua_type(L, i) == LUA_TSTRING) bytes += lua_rawlen(L, i);
    lua_pushvalue(L, lua_upvalueindex(1));
    lua_insert(L, 1);
    lua_call(L, n, LUA_MULTRET);
    int r = lua_gettop(L);
    for (int i = 1; i <= r; i++)
        if (lua_type(L, i) == LUA_TSTRING) bytes += lua_rawlen(L, i);
    vd_lua_charge(L, bytes);
    return r;
}

/* Wraps the named functions of the library table on top of the stack in charged(). */
static void charge_calls(lua_State *L, const char *const *names) {
    for (; *names; names++) {
        lua_getfield(L, -1, *names);
        lua_pushcclosure(L, charged, 1);
        lua_setfield(L, -2, *names);
    }
}

void vd_lua_arm_budget(lua_State *L, int64_t left, size_t mem_base) {
    vd_lstate_t *ls = vd_lua_ls(L);
    ls->budget_left = left > 0 ? left : ls->limits.instr_limit;
    ls->stop = VD_LUA_RUNS;
    ls->mem_over = 0;
    ls->calls++;
    /* A rule call may add call_mem_limit bytes (policy files while loading may use the
     * whole state), and the state keeps an eighth of its cap as headroom for unwinding and
     * reporting. */
    size_t cap = ls->limits.mem_limit - ls->limits.mem_limit / 8;
    size_t call = ls->loading ? 0 : ls->limits.call_mem_limit;
    ls->call_mem_base = mem_base ? mem_base : ls->mem_used;
    ls->mem_soft = call && ls->call_mem_base + call < cap ? ls->call_mem_base + call : cap;
    ls->running = L;
    ls->hook_step = ls->budget_left < VD_LUA_HOOK_STEP ? (int)ls->budget_left : VD_LUA_HOOK_STEP;
    if (ls->hook_step > 0) lua_sethook(L, budget_hook, LUA_MASKCOUNT, ls->hook_step);
}

int64_t vd_lua_disarm(lua_State *L) {
    vd_lstate_t *ls = vd_lua_ls(L);
    lua_sethook(L, NULL, 0, 0);
    ls->running = NULL;
    return ls->budget_left;
}

int vd_lua_pcall(lua_State *L, int nargs, int nresults) {
    int base = lua_gettop(L) - nargs - 1;
    vd_lua_arm_budget(L, 0, 0);
    int rc = lua_pcall(L, nargs, nresults, 0);
    vd_lua_disarm(L);
    char msg[600];
    if (vd_lua_guard_check(L, msg, sizeof msg)) {
        if (rc == LUA_OK)
            lua_settop(L, base);
        else
            lua_pop(L, 1);
        vd_lua_push_message(L, msg);
        rc = LUA_ERRRUN;
    }
    return rc;
}

void vd_lua_reclaim(lua_State *L) {
    lua_gc(L, LUA_GCCOLLECT);
    malloc_trim(0);
}

static int patterns_disabled(lua_State *L) {
    return luaL_error(L, "Lua patterns are disabled in policies (they can be made to run for "
                         "very long on attacker input); use verdict.re(...) instead");
}

/* string.find without patterns: always a plain substring search. */
static int plain_find(lua_State *L) {
    size_t ls, lp;
    const char *s = luaL_checklstring(L, 1, &ls);
    const char *p = luaL_checklstring(L, 2, &lp);
    lua_Integer init = luaL_optinteger(L, 3, 1);
    if (init < 0) init = (lua_Integer)ls + init + 1;
    if (init < 1) init = 1;
    if ((size_t)init > ls + 1) {
        lua_pushnil(L);
        return 1;
    }
    vd_lua_charge(L, ls - (size_t)init + 1);
    const char *hit = lp == 0 ? s + init - 1 : memmem(s + init - 1, ls - (size_t)init + 1, p, lp);
    if (!hit) {
        lua_pushnil(L);
        return 1;
    }
    lua_pushinteger(L, hit - s + 1);
    lua_pushinteger(L, hit - s + (lua_Integer)lp);
    return 2;
}

/* tostring, with the cases rules use most (integers for keys, strings) done without
 * formatting through the C library; the same text as Lua's own tostring. */
static int fast_tostring(lua_State *L) {
    luaL_checkany(L, 1);
    if (lua_type(L, 1) == LUA_TSTRING) {
        lua_settop(L, 1);
        return 1;
    }
    if (lua_isinteger(L, 1)) {
        lua_Integer v = lua_tointeger(L, 1);
        char text[24];
        int n = sizeof text;
        uint64_t u = v < 0 ? (uint64_t)0 - (uint64_t)v : (uint64_t)v;
        do
            text[--n] = (char)('0' + u % 10);
        while ((u /= 10) != 0);
        if (v < 0) text[--n] = '-';
        lua_pushlstring(L, text + n, sizeof text - (size_t)n);
        return 1;
    }
    luaL_tolstring(L, 1, NULL);
    return 1;
}

/* math.randomseed, while the policy loads only: seeded from a request, the generator every
 * later request draws from would carry that request's data to them. */
static int load_time_randomseed(lua_State *L) {
    if (!vd_lua_ls(L)->loading)
        return luaL_error(L, "math.randomseed can only be called while policies load");
    lua_pushvalue(L, lua_upvalueindex(1));
    lua_insert(L, 1);
    lua_call(L, lua_gettop(L) - 1, LUA_MULTRET);
    return lua_gettop(L);
}

/* math.random, seeded afresh from the system for each rule call that uses it: one generator
 * serves every request of the worker, and what one call draws (or how often) must not show
 * in another's numbers. Upvalues: the library's random and randomseed. */
static int per_call_random(lua_State *L) {
    vd_lstate_t *ls = vd_lua_ls(L);
    if (!ls->loading && ls->seeded_call != ls->calls) {
        lua_Integer seed[2];
        if (getrandom(seed, sizeof seed, 0) != (ssize_t)sizeof seed)
            seed[0] = vd_now_ns(), seed[1] = (lua_Integer)ls->calls;
        lua_pushvalue(L, lua_upvalueindex(2));
        lua_pushinteger(L, seed[0]);
        lua_pushinteger(L, seed[1]);
        lua_call(L, 2, 0);
        ls->seeded_call = ls->calls;
    }
    lua_pushvalue(L, lua_upvalueindex(1));
    lua_insert(L, 1);
    lua_call(L, lua_gettop(L) - 1, LUA_MULTRET);
    return lua_gettop(L);
}

/* load() of text chunks only: bytecode can break the VM's safety. */
static int text_load(lua_State *L) {
    size_t len;
    const char *s = luaL_checklstring(L, 1, &len);
    const char *name = luaL_optstring(L, 2, "=(load)");
    if (luaL_loadbufferx(L, s, len, name, "t") != LUA_OK) {
        lua_pushnil(L);
        lua_insert(L, -2);
        return 2;
    }
    if (!lua_isnone(L, 4)) { /* load(chunk, name, mode, env): env becomes the chunk's _ENV */
        lua_pushvalue(L, 4);
        lua_setupvalue(L, -2, 1);
    }
    return 1;
}

static int push_message_body(lua_State *L) {
    lua_pushstring(L, lua_touserdata(L, 1));
    return 1;
}

void vd_lua_push_message(lua_State *L, const char *msg) {
    lua_pushcfunction(L, push_message_body); /* a light function: nothing allocated yet */
    lua_pushlightuserdata(L, (void *)msg);
    lua_pcall(L, 1, 1, 0); /* at the memory cap, the memory error's message takes its place */
}

static void remove_fields(lua_State *L, const char *const *names) {
    for (; *names; names++) {
        lua_pushnil(L);
        lua_setfield(L, -2, *names);
    }
}

static void open_safe_libs(lua_State *L) {
    static const luaL_Reg libs[] = {{LUA_GNAME, luaopen_base},
                                    {LUA_STRLIBNAME, luaopen_string},
                                    {LUA_TABLIBNAME, luaopen_table},
                                    {LUA_MATHLIBNAME, luaopen_math},
                                    {LUA_UTF8LIBNAME, luaopen_utf8},
                                    {LUA_OSLIBNAME, luaopen_os},
                                    {NULL, NULL}};
    for (const luaL_Reg *l = libs; l->func; l++) {
        luaL_requiref(L, l->name, l->func, 1);
        lua_pop(L, 1);
    }
    static const char *const base_out[] = {"dofile", "loadfile", "collectgarbage", "print", NULL};
    lua_pushglobaltable(L);
    remove_fields(L, base_out);
    lua_pushcfunction(L, text_load);
    lua_setfield(L, -2, "load");
    lua_pushcfunction(L, fast_tostring);
    lua_setfield(L, -2, "tostring");
    lua_pop(L, 1);
    vd_lua_open_readonly(L);

    lua_getglobal(L, "table");
    static const char *const heavy_tables[] = {"concat", NULL};
    charge_calls(L, heavy_tables);
    lua_pop(L, 1);

    /* os: only the clock and calendar functions. */
    lua_getglobal(L, "os");
    static const char *const os_out[] = {"execute", "exit",    "getenv",    "remove",
                                         "rename",  "tmpname", "setlocale", NULL};
    remove_fields(L, os_out);
    lua_pop(L, 1);

    lua_getglobal(L, "math");
    lua_getfield(L, -1, "random");
    lua_getfield(L, -2, "randomseed");
    lua_pushcclosure(L, per_call_random, 2);
    lua_setfield(L, -2, "random");
    lua_getfield(L, -1, "randomseed");
    lua_pushcclosure(L, load_time_randomseed, 1);
    lua_setfield(L, -2, "randomseed");
    lua_pop(L, 1);

    lua_getglobal(L, "string");
    lua_getfield(L, -1, "format"); /* kept: rules may replace string.format for themselves */
    vd_lua_ls(L)->format_ref = luaL_ref(L, LUA_REGISTRYINDEX);
    static const char *const pat[] = {"match", "gmatch", "gsub"};
    for (size_t i = 0; i < sizeof pat / sizeof *pat; i++) {
        lua_pushcfunction(L, patterns_disabled);
        lua_setfield(L, -2, pat[i]);
    }
    lua_pushcfunction(L, plain_find);
    lua_setfield(L, -2, "find");
    static const char *const heavy_strings[] = {"upper", "lower", "rep",    "reverse", "sub",
                                                "byte",  "char",  "format", NULL};
    charge_calls(L, heavy_strings);
    lua_pushnil(L);
    lua_setfield(L, -2, "dump");
    lua_pop(L, 1);
    /* Hide the string metatable so rules cannot swap the methods every string shares. */
    lua_pushliteral(L, "");
    lua_getmetatable(L, -1);
    lua_pushboolean(L, 0);
    lua_setfield(L, -2, "__metatable");
    lua_pop(L, 2);
}

lua_State *vd_lua_new(const vd_lua_limits_t *limits) {
    vd_lstate_t *ls = calloc(1, sizeof *ls);
    if (!ls) return NULL;
    ls->limits = *limits;
    ls->spare_ref = LUA_NOREF;
    ls->guard_ref = LUA_NOREF;
    ls->re_md = pcre2_match_data_create(32, NULL);
    ls->re_mctx = pcre2_match_context_create(NULL);
    lua_State *L = ls->re_md && ls->re_mctx ? lua_newstate(capped_alloc, ls) : NULL;
    if (!L) {
        pcre2_match_data_free(ls->re_md);
        pcre2_match_context_free(ls->re_mctx);
        free(ls);
        return NULL;
    }
    pcre2_set_match_limit(ls->re_mctx, limits->regex_limit ? limits->regex_limit : 100000);
    pcre2_set_depth_limit(ls->re_mctx, 10000);
    *(vd_lstate_t **)lua_getextraspace(L) = ls;
    open_safe_libs(L);
    lua_newtable(L);
    vd_lua_open_helpers(L);
    vd_lua_open_re(L);
    vd_lua_open_ip(L);
    vd_lua_open_sets(L);
    vd_lua_open_view(L);
    vd_lua_open_ctx(L);
    vd_lua_open_store(L);
    vd_lua_open_profile(L);
    vd_lua_open_anomaly(L);
    vd_lua_open_campaign(L);
    vd_lua_open_lists(L);
    vd_lua_open_when(L);
    lua_pushstring(L, limits->data_dir ? limits->data_dir : "data");
    lua_setfield(L, -2, "data_dir");
    lua_setglobal(L, "verdict");
    return L;
}

void vd_lua_close(lua_State *L) {
    if (!L) return;
    vd_lstate_t *ls = vd_lua_ls(L);
    lua_close(L);
    pcre2_match_data_free(ls->re_md);
    pcre2_match_context_free(ls->re_mctx);
    free(ls->guard_up);
    free(ls);
}
