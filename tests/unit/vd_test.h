/* Shared by the unit suites: suite registration and small fixtures. */
#ifndef VD_TEST_H
#define VD_TEST_H

#include "suites.h"

#include <CUnit/CUnit.h>
#include <msgpack.h>

#include "base/arena.h"
#include "decision/decision.h"
#include "policy/policy.h"

/* Each test_<name>.c defines vd_suite_<name>, listed once in suites.h. */
#define VD_SUITE_DECL(name) void vd_suite_##name(void);
VD_UNIT_SUITES(VD_SUITE_DECL)
#undef VD_SUITE_DECL

/* Adds a suite with the given tests (NULL-terminated {name, fn} pairs). */
typedef struct vd_test {
    const char *name;
    CU_TestFunc fn;
} vd_test_t;
void vd_add_suite(const char *name, const vd_test_t *tests);

/* Writes the files (NULL-terminated path/content pairs) into a fresh temporary directory,
 * whose path goes into dir. Returns 0 or -1. */
int vd_test_write_dir(const char *const *files, char dir[32]);

/* Removes a directory made by vd_test_write_dir. */
void vd_test_remove_dir(const char *dir);

/* Writes the files (NULL-terminated path/content pairs) into a fresh temporary directory and
 * loads it as a policy. Returns the load result; err gets the message. The directory is
 * removed before returning. */
int vd_test_load(const char *const *files, vd_policy_t **out, char *err, size_t errlen);

/* The same with other limits than the suites' (32 MiB, 8 MiB a call, 200,000 instructions). */
int vd_test_load_with(const char *const *files, const vd_lua_limits_t *limits, vd_policy_t **out,
                      char *err, size_t errlen);

/* Loads a single file named "main.lua"; asserts success. */
vd_policy_t *vd_test_policy(const char *lua);

/* Builds a msgpack map event from a JSON-like list of string pairs (NULL-terminated). */
typedef struct vd_test_event {
    msgpack_sbuffer sb;
    msgpack_unpacked up;
} vd_test_event_t;
const msgpack_object *vd_test_event(vd_test_event_t *e, const char *const *kv);
/* The same with typed values: each value's first character says its type, s: string, b: bin,
 * i: integer, f: float, t/F: boolean, n: nil, a: (empty) array, m: (empty) map. */
const msgpack_object *vd_test_typed_event(vd_test_event_t *e, const char *const *kv);
void vd_test_event_free(vd_test_event_t *e);

/* Runs a pipeline of p over the event kv; the decision stays valid until vd_test_run_free. */
typedef struct vd_test_run {
    vd_arena_t arena;
    vd_decision_t d;
    vd_test_event_t ev;
    int rc;
} vd_test_run_t;
void vd_test_run(vd_test_run_t *r, vd_policy_t *p, const char *pipeline, const char *const *kv);
/* The same with a deadline (monotonic, as vd_now_ns; 0 = none). */
void vd_test_run_until(vd_test_run_t *r, vd_policy_t *p, const char *pipeline,
                       const char *const *kv, int64_t deadline_ns);
void vd_test_run_free(vd_test_run_t *r);

#endif
