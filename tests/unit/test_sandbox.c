/* What rules must not be able to do, and the limits that stop runaway rules. */
#include "base/arena.h"
#include "exec/run.h"
#include "vd_test.h"

#include <string.h>

/* Runs a one-rule pipeline whose condition is body; returns the first fault or "". */
static void run_body(const char *body, char *fault, size_t cap) {
    char lua[2048];
    snprintf(lua, sizeof lua,
             "rule \"r\" { score = 1, when = function(ev, ctx)\n%s\nend }\n"
             "pipeline \"p\" { stages = { stage \"s\" {\"r\"} } }\n",
             body);
    vd_policy_t *p = vd_test_policy(lua);
    const char *kv[] = {"email", "a@b.c", NULL};
    vd_test_run_t r;
    vd_test_run(&r, p, "p", kv);
    CU_ASSERT_EQUAL(r.rc, 0);
    snprintf(fault, cap, "%s", r.d.faults.len ? VD_VEC_AT(r.d.faults, vd_fault_t, 0).message : "");
    vd_test_run_free(&r);
    vd_policy_unref(p);
}

static void expect_fault(const char *body, const char *needle) {
    char fault[1024];
    run_body(body, fault, sizeof fault);
    if (!strstr(fault, needle)) {
        fprintf(stderr, "\n  body: %s\n  fault: '%s'\n  expected: %s\n", body, fault, needle);
        CU_FAIL("missing or unexpected fault");
    }
}

static void test_dangerous_globals_are_absent(void) {
    const char *absent[] = {"io",     "debug",    "require",        "package",
                            "dofile", "loadfile", "collectgarbage", "print"};
    for (size_t i = 0; i < sizeof absent / sizeof *absent; i++) {
        char body[128];
        snprintf(body, sizeof body, "return rawget(_G, '%s') ~= nil", absent[i]);
        char fault[256];
        run_body(body, fault, sizeof fault);
        CU_ASSERT_STRING_EQUAL(fault, "");
    }
    expect_fault("return os.execute('true')", "execute");
    expect_fault("return os.getenv('HOME')", "getenv");
    expect_fault("return io.open('/etc/passwd')", "undefined global 'io'");
}

static void test_bytecode_is_refused(void) {
    char fault[256];
    run_body("local f, err = load('\\27Lua'); assert(f == nil and err:find('binary')); return true",
             fault, sizeof fault);
    CU_ASSERT_STRING_EQUAL(fault, "");
    expect_fault("return string.dump(function() end)", "dump");
}

static void test_endless_loops_are_stopped(void) {
    expect_fault("while true do end", "instruction budget");
    expect_fault("while true do pcall(function() while true do end end) end", "instruction budget");
    expect_fault("local function f() return f() end return f()", "instruction budget");
}

static void test_memory_cap(void) {
    expect_fault("local t = {} for i = 1, 1e9 do t[i] = string.rep('x', 100000) .. i end",
                 "memory");
    expect_fault("return string.rep('x', 1 << 30)", "memory");
}

static void test_patterns_disabled(void) {
    expect_fault("return ev.email:match('(.-)@(.*)')", "Lua patterns are disabled");
    expect_fault("return string.gsub(ev.email, 'a', 'b')", "verdict.re");
}

static void test_event_is_read_only_and_request_scoped(void) {
    expect_fault("ev.email = 'x'", "read-only");
    expect_fault("ctx.features.x = 1", "read-only");
    expect_fault("rawset(ev, 'email', 'x')", "read-only");
    expect_fault("ctx.set = nil", "read-only");
    expect_fault("rawset(ctx, 'features', {})", "read-only");
    expect_fault("setmetatable(ctx, nil)", "protected metatable");
    expect_fault("newglobal = 1", "cannot create globals");
    expect_fault("ctx:stop('nuke')", "no such action");
    expect_fault("ctx:set('t', {})", "not a table");
}

static void test_stale_view(void) {
    /* A view smuggled out through an upvalue is refused in the next request. */
    vd_policy_t *p = vd_test_policy("local kept\n"
                                    "rule \"r\" { score = 1, when = function(ev) if kept then "
                                    "return kept.email end kept = ev end }\n"
                                    "pipeline \"p\" { stages = { stage \"s\" {\"r\"} } }\n");
    for (int i = 0; i < 2; i++) {
        const char *kv[] = {"email", "a@b.c", NULL};
        vd_test_run_t r;
        vd_test_run(&r, p, "p", kv);
        CU_ASSERT_EQUAL(r.rc, 0);
        CU_ASSERT_EQUAL(r.d.faults.len, (uint32_t)i);
        if (i == 1 && r.d.faults.len)
            CU_ASSERT_PTR_NOT_NULL(
                strstr(VD_VEC_AT(r.d.faults, vd_fault_t, 0).message, "after its request"));
        vd_test_run_free(&r);
    }
    vd_policy_unref(p);
}

static void test_regex_match_limit(void) {
    /* Catastrophic backtracking is cut off by the match limit, not left to run. */
    expect_fault("local re = verdict.re('^(a+)+$')\n"
                 "return re:test(string.rep('a', 40) .. 'b')",
                 "match limit");
}

void vd_suite_sandbox(void) {
    static const vd_test_t tests[] = {
        {"dangerous globals are absent", test_dangerous_globals_are_absent},
        {"bytecode is refused", test_bytecode_is_refused},
        {"endless loops are stopped", test_endless_loops_are_stopped},
        {"memory is capped", test_memory_cap},
        {"Lua patterns are disabled", test_patterns_disabled},
        {"event and globals are read-only", test_event_is_read_only_and_request_scoped},
        {"a view kept past its request is refused", test_stale_view},
        {"regex match limit", test_regex_match_limit},
        {NULL, NULL}};
    vd_add_suite("sandbox", tests);
}
