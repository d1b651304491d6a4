/* A sandboxed Lua state for one worker: capped allocator, instruction budget, safe libraries.
 * The per-state bookkeeping lives in lua_getextraspace so bindings reach it without globals. */
#ifndef VD_LUA_STATE_H
#define VD_LUA_STATE_H

#include <lua.h>
#include <stddef.h>
#include <stdint.h>

struct vd_exec;
struct vd_redis;
struct vd_state_op;
struct vd_policy_src;
struct pcre2_real_match_data_8;
struct pcre2_real_match_context_8;

typedef struct {
    size_t mem_limit;       /* bytes the state may hold; 0 = unlimited */
    int64_t instr_limit;    /* VM instructions per rule call (and per policy file at load) */
    uint32_t regex_limit;   /* PCRE2 match limit (backtracking steps) per match */
    const char *data_dir;   /* verdict.data_dir: absolute path of data files (MMDB, models) */
    struct vd_store *store; /* counters, distinct counts and labels; NULL: not available */
    int state_fail_open;    /* when Redis does not answer: no state instead of local state */
} vd_lua_limits_t;

typedef struct vd_lstate {
    size_t mem_used;
    vd_lua_limits_t limits;
    const struct vd_policy_src *src; /* files readable by verdict.lines while loading */
    int loading;                     /* 1 while policy files run: DSL builders are allowed */
    struct vd_exec *exec;            /* the request being decided, NULL between requests */
    uint64_t gen;                   /* the running request's: views of other requests are refused */
    uint64_t next_gen;              /* the last generation handed out */
    struct vd_redis *redis;         /* the worker's Redis client when state lives there */
    struct vd_state_op *pending_op; /* what a rule just yielded for */
    struct vd_state_op *resumed_op; /* its answer, while the rule resumes */
    lua_State *spare_co;            /* a finished rule coroutine kept for the next rule */
    int spare_ref;
    struct pcre2_real_match_data_8 *re_md;
    struct pcre2_real_match_context_8 *re_mctx;
} vd_lstate_t;

/* Creates a sandboxed state: base (without dofile/loadfile/collectgarbage/print), string
 * (Lua patterns disabled, see docs), table, math, utf8, a reduced os, and the verdict library.
 * Returns NULL when out of memory. */
lua_State *vd_lua_new(const vd_lua_limits_t *limits);

/* Closes the state and frees its bookkeeping. */
void vd_lua_close(lua_State *L);

static inline vd_lstate_t *vd_lua_ls(lua_State *L) {
    return *(vd_lstate_t **)lua_getextraspace(L);
}

/* Arms the instruction budget for the next call (a rule, or a policy file at load). */
void vd_lua_arm_budget(lua_State *L);

/* Calls the function below nargs arguments with the budget armed; like lua_pcall. */
int vd_lua_pcall(lua_State *L, int nargs, int nresults);

/* Registration of the bindings, one per file. Each expects the verdict table on top. */
void vd_lua_open_helpers(lua_State *L);
void vd_lua_open_re(lua_State *L);
void vd_lua_open_ip(lua_State *L);
void vd_lua_open_sets(lua_State *L);
void vd_lua_open_view(lua_State *L);
void vd_lua_open_ctx(lua_State *L);
void vd_lua_open_store(lua_State *L);
void vd_lua_open_lists(lua_State *L);

#endif
