/* A sandboxed Lua state for one worker: capped allocator, instruction budget, safe libraries.
 * The per-state bookkeeping lives in lua_getextraspace so bindings reach it without globals. */
#ifndef VD_LUA_STATE_H
#define VD_LUA_STATE_H

#include "decision/decision.h"
#include "udata.h"

#include <lua.h>
#include <stddef.h>
#include <stdint.h>

struct vd_exec;
struct vd_redis;
struct vd_state_op;
struct vd_store;
struct vd_campaigns;
struct pcre2_real_match_data_8;
struct pcre2_real_match_context_8;

/* The request being decided, as the Lua bindings see it. */
typedef struct vd_exec {
    vd_decision_t *d;
    const char *stage;          /* name of the running stage */
    const char *rule;           /* name of the running rule */
    int shadow;                 /* the running stage is in shadow mode */
    const char *const *actions; /* NULL-terminated names the pipeline knows, for ctx:stop */
    int can_wait;        /* the rule runs in a coroutine of a request that can wait (for Redis) */
    int64_t deadline_ns; /* the request's, monotonic; 0 = none */
    int64_t now_s;       /* the wall-clock time of the decision: what state operations see */
    struct vd_trace_rule *trace_rule; /* with explain: the running rule's, which notes what it
                                         reads; else NULL */
} vd_exec_t;

typedef struct vd_lua_limits {
    size_t mem_limit;       /* bytes the state may hold; 0 = unlimited */
    size_t call_mem_limit;  /* bytes one rule call may add to what the state holds; 0 = any */
    int64_t instr_limit;    /* VM instructions per rule call (and per policy file at load) */
    uint32_t regex_limit;   /* PCRE2 match limit (backtracking steps) per match */
    const char *data_dir;   /* verdict.data_dir: absolute path of data files (MMDB, models) */
    struct vd_store *store; /* counters, distinct counts and labels; NULL: not available */
    struct vd_campaigns *campaigns; /* verdict.campaign's index; NULL: not available */
    int state_fail_open; /* when Redis does not answer: no state instead of local state */
} vd_lua_limits_t;

/* The policy directory as the bindings see it while a policy loads: relative paths of
 * verdict.list are joined to dir, verdict.lines reads the snapshot through find. */
typedef struct vd_lua_files {
    const char *dir; /* NULL outside loading */
    /* The bytes of the file at path (relative to dir), or NULL; borrowed while loading. */
    const char *(*find)(void *ud, const char *path, size_t *len);
    void *ud;
} vd_lua_files_t;

/* Why the running call was interrupted (the hook raised an error no pcall can keep). */
typedef enum {
    VD_LUA_RUNS = 0,
    VD_LUA_STOP_BUDGET,   /* the instruction budget ran out */
    VD_LUA_STOP_DEADLINE, /* deadline_ns passed */
    VD_LUA_STOP_MEMORY,   /* the state went past the memory cap's soft limit */
} vd_lua_stop_t;

/* The hook fires every this many instructions of a rule: to count the budget, and to check
 * the deadline and memory. */
#define VD_LUA_HOOK_STEP 1000

typedef struct vd_lstate {
    size_t mem_used;
    size_t mem_soft;      /* past this, the running call is stopped (see vd_lua_arm_budget) */
    int mem_over;         /* the running call went past mem_soft */
    size_t call_mem_base; /* what the state held when the running call started */
    uint64_t calls;       /* calls armed so far: math.random reseeds once per call */
    uint64_t seeded_call; /* the call math.random was last seeded in */
    lua_State *running;   /* the thread running a call under the budget, else NULL */
    int64_t budget_left;  /* instructions the running call may still execute */
    int hook_step;        /* instructions until the hook fires next */
    int64_t deadline_ns;  /* the running rule's deadline (request or stage), monotonic; 0 = none */
    vd_lua_stop_t stop;   /* why the running call was interrupted */
    int guard_ref;        /* registry reference: functions and values of the guarded upvalues */
    int *guard_up;        /* upvalue numbers, one per guarded upvalue (freeze.h) */
    size_t nguard;
    vd_lua_limits_t limits;
    vd_lua_files_t files;           /* what verdict.lines and verdict.list read while loading */
    int loading;                    /* 1 while policy files run: DSL builders are allowed */
    struct vd_exec *exec;           /* the request being decided, NULL between requests */
    struct vd_redis *redis;         /* the worker's Redis client when state lives there */
    struct vd_state_op *pending_op; /* what a rule just yielded for */
    struct vd_state_op *resumed_op; /* its answer, while the rule resumes */
    lua_State *spare_co;            /* a finished rule coroutine kept for the next rule */
    int spare_ref;
    struct pcre2_real_match_data_8 *re_md;
    struct pcre2_real_match_context_8 *re_mctx;
    int udata_mt[VD_UDATA__COUNT]; /* registry references of the metatables (udata.h) */
    int view_stale;    /* registry reference: the metatable of views whose request ended or waits */
    int view_pool;     /* registry reference: view metatables (with their caches) for reuse */
    int view_cache_mt; /* registry reference: metatable of the views' caches */
    int views;         /* registry reference: the running request's view list */
    int ctx_ref;       /* registry reference: the ctx object rules receive */
    int format_ref;    /* registry reference: string.format, for rule details */
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

/* The answer of the operation a rule waited for, taken as it resumes (a lua_KFunction's
 * first step). */
static inline struct vd_state_op *vd_lua_take_resumed(lua_State *L) {
    vd_lstate_t *ls = vd_lua_ls(L);
    struct vd_state_op *op = ls->resumed_op;
    ls->resumed_op = NULL;
    return op;
}

/* Arms the budget for the next call on thread L (a rule, or a policy file at load): left
 * instructions (0: the whole instruction budget), the deadline in ls->deadline_ns, and the
 * memory the call may add to what the state held at mem_base (0: what it holds now; a rule
 * resumed after a wait passes the base of its first start, in ls->call_mem_base). */
void vd_lua_arm_budget(lua_State *L, int64_t left, size_t mem_base);

/* Ends the budget of thread L; returns the instructions it had left (to resume with). */
int64_t vd_lua_disarm(lua_State *L);

/* Calls the function below nargs arguments with the budget armed; like lua_pcall. A call
 * that assigned a guarded upvalue (freeze.h) fails, with the upvalue set back. */
int vd_lua_pcall(lua_State *L, int nargs, int nresults);

/* Charges work a library function did to the running call: a byte in 64 counts as an
 * instruction, and a large piece of work also looks at the clock. When the budget is spent or
 * the deadline passed, the rule stops at its next instruction: a call that handles megabytes
 * is no longer a free instruction. */
void vd_lua_charge(lua_State *L, size_t bytes);

/* Pushes msg as a Lua string without risking an unprotected memory error (the state may be at
 * its cap): a string is pushed in any case, msg or the memory error's own message. L must be
 * able to call (not a suspended coroutine). */
void vd_lua_push_message(lua_State *L, const char *msg);

/* After a call stopped for memory: collects everything and gives free pages back to the
 * system, so that the process shrinks back to its size before the call. */
void vd_lua_reclaim(lua_State *L);

#endif
