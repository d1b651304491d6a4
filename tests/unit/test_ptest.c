/* verdict test's parts: test files left out of the policy, where keys are written, reading
 * cases (and every mistake in them, with its file:line), seeding state so that each window
 * reads what the case says, and whole runs with their failures and coverage. */
#include "base/error.h"
#include "ptest/lines.h"
#include "ptest/runner.h"
#include "ptest/seed.h"
#include "ptest/suite.h"
#include "replay/record.h"
#include "state/store.h"
#include "vd_test.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const policy =
    "local burner = verdict.set { 'mailinator.com' }\n"
    "rule 'disposable' { score = 6, tags = {'email'},\n"
    "  when = function(ev) return burner:has(verdict.email_domain(ev.email)) end }\n"
    "rule 'burst' { score = 5, when = function(ev)\n"
    "  local m, h = verdict.counter('ip:' .. tostring(ev.ip)); return h > 3, h end }\n"
    "rule 'trial' { score = 1, when = function(ev) return ev.trial end }\n"
    "pipeline 'reset' { stages = { stage 's' { 'disposable', 'burst' },\n"
    "  stage 't' { 'trial', shadow = true } }, actions = { challenge = 5, block = 10 } }\n";

static void test_loader_leaves_tests_out(void) {
    const char *with[] = {"main.lua", policy, "reset_test.lua", "this is not Lua {", NULL};
    const char *without[] = {"main.lua", policy, NULL};
    char dir[32], err[512] = "", version[20];
    vd_policy_src_t *src;
    CU_ASSERT_FATAL(vd_test_write_dir(without, dir) == 0);
    CU_ASSERT_EQUAL_FATAL(vd_policy_src_read(dir, &src, err, sizeof err), 0);
    snprintf(version, sizeof version, "%s", src->version);
    vd_policy_src_unref(src);
    vd_test_remove_dir(dir);
    vd_policy_t *p = NULL;
    CU_ASSERT_EQUAL(vd_test_load(with, &p, err, sizeof err), 0); /* the test is not run */
    vd_policy_unref(p);
    CU_ASSERT_FATAL(vd_test_write_dir(with, dir) == 0);
    CU_ASSERT_EQUAL_FATAL(vd_policy_src_read(dir, &src, err, sizeof err), 0);
    CU_ASSERT_EQUAL(src->nfiles, 1);
    CU_ASSERT_STRING_EQUAL(src->version, version); /* nor part of the version */
    vd_policy_src_unref(src);
    vd_test_remove_dir(dir);
    CU_ASSERT(vd_policy_src_is_test("signup_test.lua"));
    CU_ASSERT(vd_policy_src_is_test("sub/x_test.lua"));
    CU_ASSERT(!vd_policy_src_is_test("test.lua"));
    CU_ASSERT(!vd_policy_src_is_test("signup_test.lua.bak"));
}

static void test_lines_of_keys(void) {
    const char *src = "test 'a' {\n"                       /* 1 */
                      "  -- action = 'no', a comment\n"    /* 2 */
                      "  ev = { faction = 1 },\n"          /* 3 */
                      "  ok = x == y, t.action = 2,\n"     /* 4 */
                      "  [\"rule.x\"] = 3, action= 'a',\n" /* 5 */
                      "  fired = { \"r1\",\n"              /* 6 */
                      "            'r2' },\n"              /* 7 */
                      "}\n";                               /* 8 */
    size_t n = strlen(src);
    CU_ASSERT_EQUAL(vd_ptest_line_of_key(src, n, 1, 0, "action"), 5);
    CU_ASSERT_EQUAL(vd_ptest_line_of_key(src, n, 1, 0, "rule.x"), 5);
    CU_ASSERT_EQUAL(vd_ptest_line_of_key(src, n, 1, 0, "ok"), 4);
    CU_ASSERT_EQUAL(vd_ptest_line_of_key(src, n, 1, 0, "x"), 0);      /* x == y is no assignment */
    CU_ASSERT_EQUAL(vd_ptest_line_of_key(src, n, 1, 5, "action"), 0); /* up to line 5 */
    CU_ASSERT_EQUAL(vd_ptest_line_of_key(src, n, 6, 0, "action"), 0);
    CU_ASSERT_EQUAL(vd_ptest_line_of_string(src, n, 6, 0, "r2"), 7);
    CU_ASSERT_EQUAL(vd_ptest_line_of_string(src, n, 1, 0, "r1"), 6);
    CU_ASSERT_EQUAL(vd_ptest_line_of_string(src, n, 1, 0, "r"), 0);
}

/* Reads text as the test file dir/name into a fresh suite. */
static void read_one(vd_ptest_suite_t *s, const char *name, const char *text) {
    vd_ptest_suite_init(s);
    CU_ASSERT_EQUAL(vd_ptest_suite_read_text(s, name, text, strlen(text)), 0);
    CU_ASSERT_EQUAL_FATAL(s->files.len, 1);
}

static const char *const full_case =
    "local function ev(t) return merge({ ip = '203.0.113.9', email = 'a@b.c', ua = 'x' }, t) "
    "end\n"                                                                       /* 1 */
    "test 'everything' {\n"                                                       /* 2 */
    "  time = '2025-03-01T08:30:00Z',\n"                                          /* 3 */
    "  event = ev { ua = absent, n = 1.5, tags = { 'a', 'b' } },\n"               /* 4 */
    "  before = { ev {}, ev {} },\n"                                              /* 5 */
    "  counters = { ['ip:1'] = 3, ['ip:2'] = { hour = 5, day = 9 } },\n"          /* 6 */
    "  distinct = { names = { 'x', 7 } },\n"                                      /* 7 */
    "  labels = { flag = true },\n"                                               /* 8 */
    "  lists = { ['lists/a.txt'] = { add = { 'z.test' } } },\n"                   /* 9 */
    "  expect = {\n"                                                              /* 10 */
    "    action = 'block',\n"                                                     /* 11 */
    "    score = { min = 10 },\n"                                                 /* 12 */
    "    fired = { 'disposable',\n"                                               /* 13 */
    "              'burst' },\n"                                                  /* 14 */
    "    features = { geo = 'DE', n = { max = 3 }, gone = absent, ok = true },\n" /* 15 */
    "  },\n"                                                                      /* 16 */
    "}\n"                                                                         /* 17 */
    "test('second', { pipeline = 'other', event = {}, expect = {} })\n";          /* 18 */

static const vd_ptest_seed_t *seed_of(const vd_ptest_case_t *c, const char *key) {
    for (uint32_t i = 0; i < c->seeds.len; i++)
        if (strcmp(VD_VEC_AT(c->seeds, vd_ptest_seed_t, i).key, key) == 0)
            return &VD_VEC_AT(c->seeds, vd_ptest_seed_t, i);
    return NULL;
}

static void test_reads_a_case(void) {
    vd_ptest_suite_t s;
    read_one(&s, "dir/reset_test.lua", full_case);
    const vd_ptest_file_t *f = &VD_VEC_AT(s.files, vd_ptest_file_t, 0);
    if (f->error) fprintf(stderr, "\n  %s\n", f->error);
    CU_ASSERT_PTR_NULL_FATAL(f->error);
    CU_ASSERT_EQUAL_FATAL(s.cases.len, 2);
    const vd_ptest_case_t *c = &VD_VEC_AT(s.cases, vd_ptest_case_t, 0);
    CU_ASSERT_STRING_EQUAL(c->name, "everything");
    CU_ASSERT_STRING_EQUAL(c->file, "dir/reset_test.lua");
    CU_ASSERT_EQUAL(c->line, 2);
    CU_ASSERT_STRING_EQUAL(c->pipeline, "reset"); /* from the file's name */
    CU_ASSERT(c->pipeline_from_file);
    CU_ASSERT_EQUAL(c->time, 1740817800);
    msgpack_unpacked up;
    msgpack_unpacked_init(&up);
    CU_ASSERT_FATAL(msgpack_unpack_next(&up, c->event.data, c->event.len, NULL) ==
                    MSGPACK_UNPACK_SUCCESS);
    CU_ASSERT_PTR_NULL(vd_replay_get(&up.data, "ua")); /* absent took it out */
    const msgpack_object *tags = vd_replay_get(&up.data, "tags"), *n = vd_replay_get(&up.data, "n");
    CU_ASSERT(tags && tags->type == MSGPACK_OBJECT_ARRAY && tags->via.array.size == 2);
    CU_ASSERT(n && n->type == MSGPACK_OBJECT_FLOAT64 && n->via.f64 == 1.5);
    msgpack_unpacked_destroy(&up);
    CU_ASSERT_EQUAL(c->before.len, 2);
    const vd_ptest_seed_t *s1 = seed_of(c, "ip:1"), *s2 = seed_of(c, "ip:2"),
                          *names = seed_of(c, "names"), *flag = seed_of(c, "flag");
    CU_ASSERT_FATAL(s1 && s2 && names && flag);
    CU_ASSERT(s1->counts[0] == 3 && s1->counts[1] == 3 && s1->counts[2] == 3);
    CU_ASSERT(s2->counts[0] == 0 && s2->counts[1] == 5 && s2->counts[2] == 9);
    CU_ASSERT(names->kind == VD_PTEST_DISTINCT && names->nvalues == 2);
    CU_ASSERT_STRING_EQUAL(names->values[1], "7");
    CU_ASSERT(flag->kind == VD_PTEST_LABEL && flag->n == 86400);
    const vd_ptest_list_t *l = &VD_VEC_AT(c->lists, vd_ptest_list_t, 0);
    CU_ASSERT(!l->replace && l->nentries == 1 && l->line == 9);
    const vd_ptest_expect_t *e = &c->expect;
    CU_ASSERT_STRING_EQUAL(e->action, "block");
    CU_ASSERT(e->line == 10 && e->action_line == 11 && e->score_line == 12);
    CU_ASSERT(e->has_score && e->score_min == 10 && e->score_max > 1e300);
    CU_ASSERT_EQUAL(e->fired.items.len, 2);
    CU_ASSERT_EQUAL(VD_VEC_AT(e->fired.items, vd_ptest_name_t, 1).line, 14);
    CU_ASSERT_EQUAL(e->features.len, 4);
    CU_ASSERT_EQUAL(VD_VEC_AT(e->features, vd_ptest_feature_t, 0).line, 15);
    CU_ASSERT(!e->faults.given);
    const vd_ptest_case_t *c2 = &VD_VEC_AT(s.cases, vd_ptest_case_t, 1);
    CU_ASSERT_STRING_EQUAL(c2->pipeline, "other");
    CU_ASSERT_EQUAL(c2->time, VD_PTEST_DEFAULT_TIME);
    CU_ASSERT_EQUAL(c2->line, 18);
    vd_ptest_suite_close(&s);
}

/* A test file and what its error must say. */
static const struct {
    const char *text, *needle;
} mistakes[] = {
    {"test 'a' {\n  event = {},\n  evnt = 1,\n  expect = {} }\n",
     "x_test.lua:3: case 'a': unknown key 'evnt' (known keys: pipeline, time, event"},
    {"test 'a' { expect = {} }", "x_test.lua:1: case 'a': no event"},
    {"test 'a' { event = {} }", "case 'a': no expect"},
    {"test 'a' { event = {}, expect = {}, time = 'yesterday' }", "time: expected Unix seconds"},
    {"test 'a' { event = {}, expect = {}, time = '2025-02-30' }", "time:"},
    {"test 'a' {\n  event = {},\n  time = 'x',\n  expect = {} }", "x_test.lua:3: case 'a': time:"},
    {"test 'a' {\n  event = {},\n  expect = {\n    action = 'allow',\n    score = 'x' } }",
     "x_test.lua:5: case 'a': expect.score: expected a number"},
    {"test 'a' {\n  event = {\n    f = tostring },\n  expect = {} }",
     "x_test.lua:2: case 'a': event.f: a function"},
    {"test 'a' { event = {}, expect = {},\n counters = { k = { minute = 5, hour = 2 } } }",
     "counters['k']: hour is 2, less than the minute's 5"},
    {"test 'a' { event = {}, expect = {}, counters = { k = -1 } }", "counters['k']: expected a"},
    {"test 'a' { event = {}, expect = {}, labels = { k = 0 } }", "labels['k']:"},
    {"test 'a' { event = {}, expect = {}, lists = { ['../x'] = { add = {} } } }",
     "lists['../x']: a list file is named by its path"},
    {"test 'a' { event = {}, expect = {}, lists = { x = { add = {}, replace = {} } } }",
     "give either add or replace"},
    {"test 'a' { event = { f = tostring }, expect = {} }", "event.f: a function cannot be"},
    {"test 'a' { event = { x = { 1, y = 2 } }, expect = {} }", "event.x: a table mixes"},
    {"test 'a' { event = { absent }, expect = {} }", "event[1]: absent only takes"},
    {"test 'a' { event = { 'a', 'b' }, expect = {} }", "event: expected named fields"},
    {"local t = {}; t.t = t\ntest 'a' { event = t, expect = {} }", "nested too deeply"},
    {"test 'a' { event = {}, expect = { score = 'high' } }", "expect.score: expected a number"},
    {"test 'a' { event = {}, expect = { score = { min = 3, max = 1 } } }", "min is above max"},
    {"test 'a' { event = {}, expect = { fired = { 'a', x = 'b' } } }", "expect.fired: expected"},
    {"test 'a' { event = {}, expect = { features = { f = tostring } } }", "features.f: expected"},
    {"test 'a' { event = {},\n  expect = { actoin = 'allow' } }",
     "x_test.lua:2: case 'a': expect: unknown key 'actoin'"},
    {"test 'a' { event = {}, expect = {} }\ntest 'a' { event = {}, expect = {} }",
     "x_test.lua:2: case 'a': a case of this name is declared at line 1"},
    {"pcall(test 'a', { evnt = {} })", "unknown key 'evnt'"}, /* caught, still an error */
    {"test { event = {} }", "x_test.lua:1: test needs a name"},
    {"test 'a' (42)", "test needs a table"},
    {"test 'a' { event = {}, expect = {}, 1 }", "a value without a name"},
    {"local x = os.time()", "os"},
    {"local x = io.open('/etc/passwd')", "io"},
    {"test 'a' { event = {}, expect = {", "x_test.lua:1:"},
    {"while true do end", "instruction budget"},
};

static void test_mistakes_name_file_and_line(void) {
    for (size_t i = 0; i < sizeof mistakes / sizeof *mistakes; i++) {
        vd_ptest_suite_t s;
        read_one(&s, "x_test.lua", mistakes[i].text);
        const vd_ptest_file_t *f = &VD_VEC_AT(s.files, vd_ptest_file_t, 0);
        if (!f->error || !strstr(f->error, mistakes[i].needle)) {
            fprintf(stderr, "\n  test file: %s\n  error:     %s\n  expected:  %s\n",
                    mistakes[i].text, f->error ? f->error : "(none)", mistakes[i].needle);
            CU_FAIL("the error lacks the expected text");
        }
        CU_ASSERT_EQUAL(s.cases.len, 0); /* a file with an error runs no case */
        vd_ptest_suite_close(&s);
    }
}

/* Each window reads what the seed says, wherever the case's time falls in the buckets. */
static void test_counter_seeds_read_back(void) {
    vd_store_t *store = vd_store_new(1 << 20);
    vd_ptest_case_t c = {0};
    vd_arena_t arena;
    vd_arena_init(&arena);
    vd_ptest_seed_t *s = vd_vec_push(&c.seeds, &arena, sizeof *s);
    *s = (vd_ptest_seed_t){.kind = VD_PTEST_COUNTER, .key = "k", .keylen = 1, .counts = {2, 7, 30}};
    for (int64_t t = VD_PTEST_DEFAULT_TIME; t < VD_PTEST_DEFAULT_TIME + 4 * 3600; t += 37) {
        vd_store_clear(store);
        c.time = t;
        CU_ASSERT_EQUAL(vd_ptest_seed(store, &c), 0);
        uint64_t got[VD_WINDOWS];
        vd_store_count(store, "k", 1, 0, t, got);
        if (got[0] != 2 || got[1] != 7 || got[2] != 30) {
            fprintf(stderr, "\n  at %lld: %llu %llu %llu\n", (long long)t,
                    (unsigned long long)got[0], (unsigned long long)got[1],
                    (unsigned long long)got[2]);
            CU_FAIL("a window reads another count");
            break;
        }
    }
    vd_arena_close(&arena);
    vd_store_free(store);
}

static const char *const tests_file =
    "local function ev(t) return merge({ ip = '198.51.100.7', email = 'j@example.com' }, t) "
    "end\n"
    "test 'plain' { event = ev {}, expect = { action = 'allow', score = 0 } }\n" /* 2 */
    "test 'throwaway' {\n"                                                       /* 3 */
    "  event = ev { email = 'x@mailinator.com' },\n"                             /* 4 */
    "  expect = {\n"                                                             /* 5 */
    "    action = 'block',\n"                                                    /* 6 */
    "    fired = 'burst',\n"                                                     /* 7 */
    "  },\n"                                                                     /* 8 */
    "}\n"                                                                        /* 9 */
    "test 'seeded' { event = ev {}, counters = { ['ip:198.51.100.7'] = 3 },\n"   /* 10 */
    "  expect = { action = 'challenge', fired = 'burst' } }\n"                   /* 11 */
    "test 'unknown rule' { event = ev {}, expect = { fired = 'brust' } }\n";     /* 12 */

static void test_runs_cases(void) {
    const char *files[] = {"main.lua", policy, "reset_test.lua", tests_file, NULL};
    char dir[32], err[1024] = "";
    CU_ASSERT_FATAL(vd_test_write_dir(files, dir) == 0);
    vd_ptest_config_t cfg = {.dir = dir};
    vd_ptest_run_t run;
    int rc = vd_ptest_run(&run, &cfg, err, sizeof err);
    if (rc) fprintf(stderr, "\n  %s\n", err);
    CU_ASSERT_EQUAL_FATAL(rc, 0);
    CU_ASSERT_EQUAL(run.passed, 2);
    CU_ASSERT_EQUAL(run.failed, 1);
    CU_ASSERT_EQUAL(run.errors, 1);
    CU_ASSERT_EQUAL_FATAL(run.results.len, 4);
    const vd_ptest_result_t *fail = &VD_VEC_AT(run.results, vd_ptest_result_t, 1);
    CU_ASSERT_EQUAL(fail->status, VD_PTEST_FAILED);
    CU_ASSERT_PTR_NOT_NULL(strstr(fail->first, "reset_test.lua:6: action: want block, got"));
    CU_ASSERT_PTR_NOT_NULL(strstr(fail->report, "reset_test.lua:7: fired: burst did not fire"));
    CU_ASSERT_PTR_NOT_NULL(strstr(fail->report, "disposable  +6"));
    const vd_ptest_result_t *bad = &VD_VEC_AT(run.results, vd_ptest_result_t, 3);
    CU_ASSERT_EQUAL(bad->status, VD_PTEST_ERROR);
    CU_ASSERT_PTR_NOT_NULL(strstr(bad->first, "reset_test.lua:12: case 'unknown rule': fired: "
                                              "pipeline 'reset' has no rule 'brust'"));
    /* The counter seeded for 'seeded' did not stay for the cases after it. */
    const vd_ptest_cov_pipeline_t *cp = &run.cov.pipelines[0];
    CU_ASSERT_EQUAL(cp->nrules, 3);
    CU_ASSERT(cp->rules[0].fired && cp->rules[1].fired && !cp->rules[2].fired);
    CU_ASSERT(cp->rules[2].shadow);
    vd_ptest_run_free(&run);
    cfg.run = "^(plain|seeded)$";
    CU_ASSERT_EQUAL(vd_ptest_run(&run, &cfg, err, sizeof err), 0);
    CU_ASSERT(run.passed == 2 && run.failed == 0 && run.unselected == 2 && run.cov.partial);
    vd_ptest_run_free(&run);
    cfg.run = "(";
    CU_ASSERT_EQUAL(vd_ptest_run(&run, &cfg, err, sizeof err), VD_EINVAL);
    CU_ASSERT_PTR_NOT_NULL(strstr(err, "--run '('"));
    vd_ptest_run_free(&run);
    vd_test_remove_dir(dir);
}

static void test_run_errors(void) {
    const char *no_tests[] = {"main.lua", policy, NULL};
    const char *broken[] = {"main.lua", "rule 'x' {", "x_test.lua", "", NULL};
    char dir[32], err[1024] = "";
    vd_ptest_run_t run;
    CU_ASSERT_FATAL(vd_test_write_dir(no_tests, dir) == 0);
    vd_ptest_config_t cfg = {.dir = dir};
    CU_ASSERT_EQUAL(vd_ptest_run(&run, &cfg, err, sizeof err), VD_ENOTFOUND);
    CU_ASSERT_PTR_NOT_NULL(strstr(err, "no test files (*_test.lua)"));
    vd_ptest_run_free(&run);
    vd_test_remove_dir(dir);
    CU_ASSERT_FATAL(vd_test_write_dir(broken, dir) == 0);
    cfg.dir = dir;
    CU_ASSERT_EQUAL(vd_ptest_run(&run, &cfg, err, sizeof err), VD_EPOLICY);
    CU_ASSERT_PTR_NOT_NULL(strstr(err, "main.lua:1:"));
    vd_ptest_run_free(&run);
    vd_test_remove_dir(dir);
}

void vd_suite_ptest(void) {
    static const vd_test_t tests[] = {
        {"the loader leaves test files out", test_loader_leaves_tests_out},
        {"keys are found on their lines", test_lines_of_keys},
        {"a case is read whole", test_reads_a_case},
        {"mistakes in test files name file:line", test_mistakes_name_file_and_line},
        {"counter seeds read back in every window", test_counter_seeds_read_back},
        {"cases run, fail and cover rules", test_runs_cases},
        {"no tests, or policies that do not load", test_run_errors},
        {NULL, NULL}};
    vd_add_suite("ptest", tests);
}
