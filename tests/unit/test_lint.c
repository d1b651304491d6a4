/* The policy lint: each check on policies that load, the compiled-code reader under it, and
 * the "did you mean" it and the load errors share. */
#include "base/error.h"
#include "base/suggest.h"
#include "lua/chunk.h"
#include "policy/lint.h"
#include "vd_test.h"

#include <lauxlib.h>
#include <stdio.h>
#include <string.h>

typedef struct linted {
    vd_policy_t *p;
    vd_lint_report_t r;
} linted_t;

/* Loads the files (main.lua's text first, then path/content pairs) and lints them. */
static void lint_files(linted_t *l, const char *const *files) {
    char err[1024] = "";
    int rc = vd_test_load(files, &l->p, err, sizeof err);
    if (rc) fprintf(stderr, "policy failed to load: %s\n", err);
    CU_ASSERT_FATAL(rc == 0);
    CU_ASSERT_EQUAL_FATAL(vd_policy_lint(l->p, &l->r), 0);
}

static void lint(linted_t *l, const char *lua) {
    const char *files[] = {"main.lua", lua, NULL};
    lint_files(l, files);
}

static void done(linted_t *l) {
    vd_lint_report_free(&l->r);
    vd_policy_unref(l->p);
}

/* Asserts a finding of check at file:line (file a suffix, line 0: any) whose message holds
 * needle. */
static void expect(const linted_t *l, vd_lint_check_t check, const char *file, int line,
                   const char *needle) {
    for (size_t i = 0; i < l->r.n; i++) {
        const vd_lint_finding_t *f = &l->r.items[i];
        size_t fl = strlen(f->file), sl = strlen(file);
        if (f->check == check && fl >= sl && strcmp(f->file + fl - sl, file) == 0 &&
            (!line || f->line == line) && strstr(f->message, needle))
            return;
    }
    fprintf(stderr, "\n  no %s finding at %s:%d with '%s'; found:\n", vd_lint_check_name(check),
            file, line, needle);
    for (size_t i = 0; i < l->r.n; i++) {
        char buf[1400];
        vd_lint_format(&l->r.items[i], 0, buf, sizeof buf);
        fprintf(stderr, "    %s\n", buf);
    }
    CU_FAIL("expected finding missing");
}

static const char *const pipeline_ab =
    "pipeline \"p\" { stages = { stage \"s\" { \"a\", \"b\" } } }\n";

static void test_clean_policy(void) {
    linted_t l;
    lint(&l, "local bad = verdict.set { 'x' }\n"
             "threshold = 3\n"
             "rule \"a\" { score = 1, when = function(ev) return bad:has(ev.x) end }\n"
             "rule \"b\" { score = 2, when = function(ev, ctx)\n"
             "  local n = (ev.n or 0) + threshold\n"
             "  ctx:set('n', n)\n"
             "  return string.len(ev.x or '') > n, verdict.lower(ev.x) end }\n"
             "pipeline \"p\" { stages = { stage \"s\" { \"a\", \"b\" } },\n"
             "  actions = { challenge = 1, block = 3 } }\n");
    CU_ASSERT_EQUAL(l.r.n, 0);
    done(&l);
}

static void test_undefined_globals(void) {
    linted_t l;
    lint(&l, "datacenter_asns = verdict.set { '1' }\n"
             "rule \"a\" { score = 1, when = function(ev)\n"
             "  local function inner(x)\n"
             "    return datacenter_asn:has(x)\n" /* a function the rule defines */
             "  end\n"
             "  return inner(ev.asn) or nothing_like_it end }\n"
             "rule \"b\" { score = 1, when = function(ev) return true end,\n"
             "  score = function(ev)\n"
             "    return tonumbr(ev.x) end }\n"
             "rule \"c\" { score = 1, when = function(ev) datacenter_asn = 1 end }\n"
             "pipeline \"p\" { stages = { stage \"s\" { \"a\", \"b\", \"c\" } } }\n");
    expect(&l, VD_LINT_UNDEFINED_GLOBAL, "main.lua", 4, "did you mean 'datacenter_asns'");
    expect(&l, VD_LINT_UNDEFINED_GLOBAL, "main.lua", 6, "'nothing_like_it'");
    expect(&l, VD_LINT_UNDEFINED_GLOBAL, "main.lua", 9, "did you mean 'tonumber'");
    expect(&l, VD_LINT_GLOBAL_WRITE, "main.lua", 10, "'datacenter_asn'");
    CU_ASSERT_EQUAL(l.r.n, 4);
    done(&l);
}

/* Rule code assigning a file-level local (a counter kept across requests, say) fails at run
 * time: the lint says so at the function; reading one, or assigning its own locals, is fine. */
static void test_local_writes(void) {
    linted_t l;
    lint(&l, "local seen = 0\n"
             "local limit = 3\n"
             "rule \"a\" { score = 1, when = function(ev)\n"
             "  seen = seen + 1\n"
             "  return seen > limit end }\n"
             "rule \"b\" { score = 1, when = function(ev)\n"
             "  local n = limit; n = n + 1; return n > 4 end }\n"
             "pipeline \"p\" { stages = { stage \"s\" { \"a\", \"b\" } } }\n");
    expect(&l, VD_LINT_LOCAL_WRITE, "main.lua", 3, "assigns 'seen', a local of the policy file");
    CU_ASSERT_EQUAL(l.r.n, 1);
    done(&l);
    /* A misspelt local reads as an undefined global: the locals rules use are suggested. */
    lint(&l, "local reset_ips = verdict.set { '192.0.2.1' }\n"
             "rule \"a\" { score = 1, when = function(ev) return reset_ips:has(ev.ip) end }\n"
             "rule \"b\" { score = 1, when = function(ev) return reset_ip:has(ev.ip) end }\n"
             "pipeline \"p\" { stages = { stage \"s\" { \"a\", \"b\" } } }\n");
    expect(&l, VD_LINT_UNDEFINED_GLOBAL, "main.lua", 3, "did you mean 'reset_ips'");
    done(&l);
}

/* A field the verdict library lacks (verdict.labelled), nested too; fields of the policy's own
 * tables may be nil on purpose and are left alone. */
static void test_unknown_library_fields(void) {
    linted_t l;
    lint(&l, "config = { limit = 3 }\n"
             "rule \"a\" { score = 1, when = function(ev)\n"
             "  return verdict.labelled('x:' .. ev.id) ~= nil end }\n"
             "rule \"b\" { score = 1, when = function(ev)\n"
             "  local ok = verdict.when.is_inn ~= nil\n"
             "  return (config.optional or config.limit) > 2 and verdict.lower(ev.x) == 'y' end }\n"
             "pipeline \"p\" { stages = { stage \"s\" { \"a\", \"b\" } } }\n");
    expect(&l, VD_LINT_UNKNOWN_FIELD, "main.lua", 3, "verdict.labelled");
    expect(&l, VD_LINT_UNKNOWN_FIELD, "main.lua", 3, "did you mean 'labeled'");
    expect(&l, VD_LINT_UNKNOWN_FIELD, "main.lua", 5, "verdict.when.is_inn");
    expect(&l, VD_LINT_UNKNOWN_FIELD, "main.lua", 5, "did you mean 'is_in'");
    CU_ASSERT_EQUAL(l.r.n, 2);
    done(&l);
}

/* Helpers a rule reaches through its upvalues and the globals it reads are read too, in their
 * own files; locals named like globals are not globals. */
static void test_globals_in_helpers(void) {
    const char *files[] = {"a_lib.lua",
                           "local cache = {}\n"
                           "function lookup(x)\n"
                           "  return cache[x] or missing_table[x]\n"
                           "end\n",
                           "main.lua",
                           "local function check(ev)\n"
                           "  local verdictx = 1\n"
                           "  return lookup(ev.x) or verdictx > 2 or undefined_in_helper\n"
                           "end\n"
                           "local function make()\n"
                           "  local _ENV = { x = 1 }\n" /* not the global table */
                           "  return function() return x end\n"
                           "end\n"
                           "local inner = make()\n"
                           "rule \"a\" { score = 1, when = function(ev)\n"
                           "  return check(ev) or inner() or make() end }\n"
                           "pipeline \"p\" { stages = { stage \"s\" { \"a\" } } }\n",
                           NULL};
    linted_t l;
    lint_files(&l, files);
    expect(&l, VD_LINT_UNDEFINED_GLOBAL, "a_lib.lua", 3, "'missing_table'");
    expect(&l, VD_LINT_UNDEFINED_GLOBAL, "main.lua", 3, "'undefined_in_helper'");
    CU_ASSERT_EQUAL(l.r.n, 2);
    done(&l);
}

static void test_unused_rules(void) {
    char text[600];
    snprintf(text, sizeof text, "%s%s",
             "rule \"a\" { score = 1, when = function() return false end }\n"
             "rule \"b\" { score = 1, when = function() return false end }\n"
             "\n"
             "rule \"orphan\" { score = 1, when = function() return false end }\n",
             pipeline_ab);
    linted_t l;
    lint(&l, text);
    expect(&l, VD_LINT_UNUSED_RULE, "main.lua", 4, "rule 'orphan' is in no stage");
    CU_ASSERT_EQUAL(l.r.n, 1);
    done(&l);
}

static void test_unused_lists(void) {
    const char *files[] = {
        "lists/ips.txt",
        "10.0.0.0/8\n",
        "lists/domains.txt",
        "example.com\n",
        "main.lua",
        "local nobody = verdict.list.ips 'lists/ips.txt'\n"
        "only_global = verdict.list.domains 'lists/domains.txt'\n"
        "local in_condition = verdict.list.ips 'lists/ips.txt'\n"
        "local in_table = { l = verdict.list.domains 'lists/domains.txt' }\n"
        "read_global = verdict.list.exact 'lists/domains.txt'\n"
        "rule \"a\" { score = 1, when = verdict.when.is_in('ip', in_condition) }\n"
        "rule \"b\" { score = 1, when = function(ev)\n"
        "  return in_table.l:has(ev.d) or read_global:has(ev.d) end }\n"
        "pipeline \"p\" { stages = { stage \"s\" { \"a\", \"b\" } } }\n",
        NULL};
    linted_t l;
    lint_files(&l, files);
    expect(&l, VD_LINT_UNUSED_LIST, "main.lua", 1, "'lists/ips.txt'");
    expect(&l, VD_LINT_UNUSED_LIST, "main.lua", 2, "'lists/domains.txt'");
    CU_ASSERT_EQUAL(l.r.n, 2);
    done(&l);
}

static void test_rules_after_a_stop(void) {
    linted_t l;
    lint(&l, "rule \"gate\" { stop = \"allow\", when = function() return true end }\n"
             "rule \"maybe\" { stop = \"allow\", when = function(ev) return ev.x end }\n"
             "rule \"a\" { score = 1, when = function() return false end }\n"
             "rule \"b\" { score = 1, when = function() return false end }\n"
             "pipeline \"p\" { stages = {\n"
             "  stage \"first\" { \"maybe\", \"a\" },\n"
             "  stage \"trial\" { \"gate\", shadow = true },\n"
             "  stage \"trial2\" { \"b\", shadow = true },\n"
             "  stage \"live\" { \"gate\",\n"
             "    \"a\" },\n"
             "  stage \"never\" { \"b\" },\n"
             "} }\n");
    expect(&l, VD_LINT_UNREACHABLE_RULE, "main.lua", 8, "stage 'trial2' never runs");
    expect(&l, VD_LINT_UNREACHABLE_RULE, "main.lua", 10, "rule 'a' never runs in stage 'live'");
    expect(&l, VD_LINT_UNREACHABLE_RULE, "main.lua", 11, "stage 'never' never runs");
    CU_ASSERT_EQUAL(l.r.n, 3);
    done(&l);
    /* A stage that may time out before its stop rule lets later stages run. */
    lint(&l, "rule \"gate\" { stop = \"allow\", when = function() return 1 end }\n"
             "rule \"a\" { score = 1, when = function() return false end }\n"
             "pipeline \"p\" { stages = { stage \"s\" { \"gate\", \"a\", timeout_ms = 5 },\n"
             "  stage \"t\" { \"a\" } } }\n");
    expect(&l, VD_LINT_UNREACHABLE_RULE, "main.lua", 3, "rule 'a' never runs in stage 's'");
    CU_ASSERT_EQUAL(l.r.n, 1);
    done(&l);
}

static void test_unreachable_actions(void) {
    linted_t l;
    lint(&l,
         "rule \"a\" { score = 6, when = function() return false end }\n"
         "rule \"b\" { score = 6, when = function() return false end }\n"
         "rule \"stop\" { stop = \"block\", when = function() return false end }\n"
         "pipeline \"p\" { stages = { stage \"s\" { \"a\", \"b\", \"stop\" } },\n"
         "  actions = {\n"
         "    review = 3,\n"
         "    challenge = 7,\n"
         "    block = 12,\n"
         "  } }\n"
         "pipeline \"q\" { stages = { stage \"s\" { \"a\" } }, actions = { flag = 0, block = 20 } "
         "}\n");
    expect(&l, VD_LINT_UNREACHABLE_ACTION, "main.lua", 7,
           "no total of the rules' fixed scores "
           "lies from 7 up to 12");
    expect(&l, VD_LINT_UNREACHABLE_ACTION, "main.lua", 10, "add up to 6 at most");
    expect(&l, VD_LINT_UNREACHABLE_ACTION, "main.lua", 10, "default action 'allow' never applies");
    CU_ASSERT_EQUAL(l.r.n, 3);
    done(&l);
    /* Scores a function computes, or a shadow stage's, leave nothing to say. */
    lint(&l, "rule \"a\" { score = function() return 50 end, when = function() return 1 end }\n"
             "rule \"b\" { score = 1, when = function() return false end }\n"
             "pipeline \"p\" { stages = { stage \"s\" { \"a\" } }, actions = { block = 20 } }\n"
             "pipeline \"q\" { stages = { stage \"s\" { \"b\" }, stage \"t\" { \"a\", shadow = "
             "true } },\n"
             "  actions = { block = 20 } }\n");
    expect(&l, VD_LINT_UNREACHABLE_ACTION, "main.lua", 5,
           "the score never reaches action 'block' (from 20)");
    CU_ASSERT_EQUAL(l.r.n, 1);
    done(&l);
}

static void test_format(void) {
    vd_lint_finding_t f = {VD_LINT_UNUSED_RULE, "policies/a.lua", 3, "rule 'x' is in no stage"};
    char buf[200];
    vd_lint_format(&f, 0, buf, sizeof buf);
    CU_ASSERT_STRING_EQUAL(buf, "policies/a.lua:3: warning: rule 'x' is in no stage [unused-rule]");
    vd_lint_format(&f, 1, buf, sizeof buf);
    CU_ASSERT_STRING_EQUAL(buf, "policies/a.lua:3: error: rule 'x' is in no stage [unused-rule]");
    f.line = 0;
    vd_lint_format(&f, 0, buf, sizeof buf);
    CU_ASSERT_STRING_EQUAL(buf, "policies/a.lua: warning: rule 'x' is in no stage [unused-rule]");
}

/* The lint leaves the state as it found it: decisions before and after agree. */
static void test_lint_changes_nothing(void) {
    linted_t l;
    lint(&l, "local seen = verdict.set { 'x' }\n"
             "rule \"a\" { score = 1, when = function(ev) return seen:has(ev.x) end }\n"
             "pipeline \"p\" { stages = { stage \"s\" { \"a\" } } }\n");
    int top = lua_gettop(l.p->L);
    vd_lint_report_t again;
    CU_ASSERT_EQUAL(vd_policy_lint(l.p, &again), 0);
    CU_ASSERT_EQUAL(again.n, 0);
    CU_ASSERT_EQUAL(lua_gettop(l.p->L), top);
    vd_lint_report_free(&again);
    vd_test_run_t r;
    vd_test_run(&r, l.p, "p", (const char *[]){"x", "x", NULL});
    CU_ASSERT_EQUAL(r.rc, 0);
    CU_ASSERT_EQUAL(r.d.main.score, 1);
    vd_test_run_free(&r);
    done(&l);
}

/* ---- the compiled-code reader ---- */

static void dump_of(lua_State *L, const char *text, vd_chunk_t *c) {
    CU_ASSERT_EQUAL_FATAL(luaL_loadbufferx(L, text, strlen(text), "=t", "t"), LUA_OK);
    CU_ASSERT_EQUAL(vd_chunk_dump(L, -1, 0, c), 0);
    lua_pop(L, 1);
}

static void test_chunk_lines_and_constants(void) {
    lua_State *L = luaL_newstate();
    vd_chunk_t c;
    char text[4096] = "local t = {}\n";
    for (int i = 0; i < 300; i++) /* long jumps between lines need absolute line entries */
        strcat(text, i % 50 == 0 ? "\n\n\n\n\n\n\n\n\n\n\n\n\n\n\n\n\n\n\n\n\n\n\n\n\n\n\n\n\n"
                                   "\n\n\n\n\n\n\n\n\n\n\n\n\n\n\n\n\n\n\n\n\n\n\n\n\n\n\n\n\n\n\n"
                                   "\n\n\n\n\n\n\n\n\n\n\n\n\n\n\n\n\n\n\n\n\n\n\n\n\n\n\n\n\n\n\n"
                                   "\n\n\n\n\n\n\n\n\n\n\n\n\n\n\n\n\n\n\n\n\n\n\n\n\n\n\n\n\n\n\n"
                                   "\n\n\n\n\n\n\n\n\n\n\n\n\n\n\n\n\n\n\n\n\n\n\n\n\n\n\n\n\n\n"
                                 : "");
    int line = 1;
    for (const char *p = text; *p; p++)
        line += *p == '\n';
    strcat(text, "last_global = 1\nreturn function() return true end\n");
    dump_of(L, text, &c);
    const vd_chunk_fn_t *f = &c.main;
    int found = 0;
    for (size_t pc = 0; pc < f->ncode; pc++) {
        uint32_t ins = vd_chunk_ins(f, pc);
        size_t len;
        const char *k = vd_chunk_kstr(f, vd_op_b(ins), &len);
        if (vd_op(ins) == VD_OP_SETTABUP && k && len == 11 && memcmp(k, "last_global", 11) == 0) {
            CU_ASSERT_EQUAL(vd_chunk_line(f, pc), line);
            found = 1;
        }
    }
    CU_ASSERT(found);
    CU_ASSERT(f->nabs > 0);
    CU_ASSERT_EQUAL(f->nprotos, 1);
    CU_ASSERT_EQUAL(f->protos[0].line_defined, line + 1);
    CU_ASSERT_EQUAL(f->up[0].name_len, 4); /* _ENV */
    vd_chunk_close(&c);
    lua_close(L);
}

static void test_chunk_refuses_what_it_does_not_know(void) {
    lua_State *L = luaL_newstate();
    vd_chunk_t c;
    dump_of(L, "local a = 1\nreturn function(x) return a + x end\n", &c);
    size_t len = c.len;
    unsigned char good[4096];
    CU_ASSERT_FATAL(len <= sizeof good);
    memcpy(good, c.data, len);
    vd_chunk_close(&c);
    for (size_t n = 0; n < len; n++) { /* every cut short */
        CU_ASSERT_EQUAL(vd_chunk_read(&c, good, n), VD_EINVAL);
        vd_chunk_close(&c);
    }
    unsigned char bad[4096];
    memcpy(bad, good, len);
    bad[4] = 0x53; /* Lua 5.3 */
    CU_ASSERT_EQUAL(vd_chunk_read(&c, bad, len), VD_EINVAL);
    vd_chunk_close(&c);
    memcpy(bad, good, len);
    bad[15] ^= 0xff; /* another byte order */
    CU_ASSERT_EQUAL(vd_chunk_read(&c, bad, len), VD_EINVAL);
    vd_chunk_close(&c);
    CU_ASSERT_EQUAL(vd_chunk_read(&c, good, len), 0);
    vd_chunk_close(&c);
    lua_pushcfunction(L, lua_gettop);
    CU_ASSERT_EQUAL(vd_chunk_dump(L, -1, 0, &c), VD_EINVAL);
    vd_chunk_close(&c);
    lua_close(L);
}

static void test_suggest(void) {
    static const char *const names[] = {"datacenter_asns", "disposable_domains", "score", "stop",
                                        "string"};
    struct {
        const char *name, *best;
    } cases[] = {{"datacenter_asn", "datacenter_asns"},
                 {"scor", "score"},
                 {"sotp", "stop"},
                 {"STRING", "string"},
                 {"x", NULL},
                 {"completely", NULL},
                 {"score", NULL}};
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        vd_suggest_t s;
        vd_suggest_init(&s, cases[i].name);
        for (size_t k = 0; k < sizeof names / sizeof *names; k++)
            vd_suggest_offer(&s, names[k]);
        const char *best = vd_suggest_best(&s);
        int ok = cases[i].best ? best && strcmp(best, cases[i].best) == 0 : best == NULL;
        if (!ok) fprintf(stderr, "\n  %s: suggested %s\n", cases[i].name, best ? best : "nothing");
        CU_ASSERT(ok);
    }
}

void vd_suite_lint(void) {
    static const vd_test_t tests[] = {
        {"a clean policy has no findings", test_clean_policy},
        {"undefined globals and global writes", test_undefined_globals},
        {"fields the verdict library lacks", test_unknown_library_fields},
        {"file-level locals assigned by rules", test_local_writes},
        {"globals in helpers, other files, _ENV", test_globals_in_helpers},
        {"rules in no stage", test_unused_rules},
        {"lists no rule uses", test_unused_lists},
        {"rules and stages after a rule that always stops", test_rules_after_a_stop},
        {"actions no total reaches", test_unreachable_actions},
        {"findings as printed", test_format},
        {"linting changes nothing", test_lint_changes_nothing},
        {"chunk reader: lines and constants", test_chunk_lines_and_constants},
        {"chunk reader: refuses what it does not know", test_chunk_refuses_what_it_does_not_know},
        {"did you mean", test_suggest},
        {NULL, NULL}};
    vd_add_suite("lint", tests);
}
