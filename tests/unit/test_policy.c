/* The policy loader: what loads, and the file:line of everything that must not. */
#include "base/error.h"
#include "vd_test.h"

#include <string.h>

static const char *const ok_rule =
    "rule \"r\" { score = 1, when = function(ev) return true end }\n";

/* Loads main.lua (plus optional extra files) and expects failure mentioning every needle. */
static void expect_error(const char *lua, const char *needle1, const char *needle2) {
    const char *files[] = {"main.lua", lua, NULL};
    vd_policy_t *p = NULL;
    char err[1024] = "";
    int rc = vd_test_load(files, &p, err, sizeof err);
    CU_ASSERT_NOT_EQUAL(rc, 0);
    if (rc == 0) vd_policy_unref(p);
    if (!strstr(err, needle1) || (needle2 && !strstr(err, needle2))) {
        fprintf(stderr, "\n  error was: %s\n  expected: %s / %s\n", err, needle1,
                needle2 ? needle2 : "");
        CU_FAIL("error message lacks the expected text");
    }
}

static void test_loads_and_describes(void) {
    vd_policy_t *p =
        vd_test_policy("rule \"a\" { score = 2, tags = {\"t\"}, description = \"d\",\n"
                       "  when = function(ev) return true end }\n"
                       "rule \"b\" { stop = \"allow\", when = function(ev) return false end }\n"
                       "pipeline \"x\" { description = \"demo\",\n"
                       "  stages = { stage \"s1\" {\"b\"}, stage \"s2\" {\"a\", shadow = true, "
                       "on_error = \"block\"} },\n"
                       "  actions = { block = 10, challenge = 5 }, default = \"allow\" }\n");
    CU_ASSERT_EQUAL(p->nrules, 2);
    const vd_pipeline_t *pl = vd_policy_pipeline(p, "x", 1);
    CU_ASSERT_PTR_NOT_NULL_FATAL(pl);
    CU_ASSERT_EQUAL(pl->nstages, 2);
    CU_ASSERT(pl->stages[1].shadow);
    CU_ASSERT_STRING_EQUAL(pl->stages[1].on_error, "block");
    CU_ASSERT_STRING_EQUAL(pl->actions[0].name, "challenge"); /* sorted by bound */
    CU_ASSERT_STRING_EQUAL(pl->actions[1].name, "block");
    CU_ASSERT_STRING_EQUAL(p->rules[0].tags[0], "t");
    CU_ASSERT_EQUAL(p->rules[0].line, 1);
    CU_ASSERT_EQUAL(strlen(vd_policy_version(p)), 16);
    CU_ASSERT_PTR_NULL(vd_policy_pipeline(p, "y", 1));
    vd_policy_unref(p);
}

static void test_rules_and_pipelines_across_files(void) {
    const char *files[] = {"b_pipeline.lua",
                           "pipeline \"x\" { stages = { stage \"s\" {\"r\"} } }\n",
                           "a/rules.lua",
                           ok_rule,
                           "lists/words.txt",
                           "# comment\n one \n\ntwo\n",
                           "c.lua",
                           "local w = verdict.lines \"lists/words.txt\"\n"
                           "assert(#w == 2 and w[1] == 'one' and w[2] == 'two')\n",
                           NULL};
    vd_policy_t *p = NULL;
    char err[1024] = "";
    CU_ASSERT_EQUAL(vd_test_load(files, &p, err, sizeof err), 0);
    if (*err) fprintf(stderr, "%s\n", err);
    vd_policy_unref(p);
}

static void test_syntax_error_has_file_line(void) {
    expect_error("rule \"a\" {\n  score = 1,\n  when = function(ev) return ev.x == end }\n",
                 "main.lua:3:", NULL);
}

static void test_unknown_keys(void) {
    expect_error("\nrule \"a\" { scor = 1, when = function() end }\n",
                 "main.lua:2:", "unknown key 'scor'");
    expect_error("rule \"a\" { score = 1, when = function() end }\n"
                 "pipeline \"p\" { stages = { stage \"s\" {\"a\", shadw = true} } }\n",
                 "main.lua:2:", "unknown key 'shadw'");
    expect_error("rule \"a\" { score = 1, when = function() end }\n"
                 "pipeline \"p\" { stage = {} }\n",
                 "main.lua:2:", "unknown key 'stage'");
}

static void test_references(void) {
    expect_error("rule \"a\" { score = 1, when = function() end }\n"
                 "pipeline \"p\" {\n stages = { stage \"s\" {\"a\", \"nope\"} } }\n",
                 "main.lua:3:", "unknown rule 'nope'");
    expect_error("rule \"a\" { stop = \"quarantine\", when = function() end }\n"
                 "pipeline \"p\" { stages = { stage \"s\" {\"a\"} } }\n",
                 "main.lua:1:", "action 'quarantine'");
    expect_error("rule \"a\" { score = 1, when = function() end }\n"
                 "pipeline \"p\" { stages = { stage \"s\" {\"a\", on_error = \"explode\"} } }\n",
                 "main.lua:2:", "'explode'");
    expect_error("rule \"a\" { score = 1, when = function() end }\n"
                 "pipeline \"p\" { stages = { \"a\" } }\n",
                 "main.lua:2:", "stages[1]");
}

static void test_thresholds(void) {
    const char *base = "rule \"a\" { score = 1, when = function() end }\n";
    char buf[512];
    snprintf(buf, sizeof buf, "%spipeline \"p\" { stages = {}, actions = { block = \"high\" } }\n",
             base);
    expect_error(buf, "main.lua:2:", "finite score bounds");
    snprintf(buf, sizeof buf,
             "%spipeline \"p\" { stages = {}, actions = { block = 5, challenge = 5 } }\n", base);
    expect_error(buf, "main.lua:2:", "share the bound");
    snprintf(buf, sizeof buf, "%spipeline \"p\" { stages = {}, actions = { allow = 1 } }\n", base);
    expect_error(buf, "main.lua:2:", "default action");
    snprintf(buf, sizeof buf, "%spipeline \"p\" { stages = {}, actions = { Block = 1 } }\n", base);
    expect_error(buf, "main.lua:2:", "lower_case");
    snprintf(buf, sizeof buf, "%spipeline \"p\" { stages = {}, actions = { block = 0/0 } }\n",
             base);
    expect_error(buf, "main.lua:2:", "finite");
}

static void test_declaration_mistakes(void) {
    expect_error("rule \"a\" { score = 1, when = function() end }\n"
                 "rule \"a\" { score = 2, when = function() end }\n",
                 "main.lua:2:", "already defined at");
    expect_error("rule \"a\" { score = 1 }\n", "main.lua:1:", "needs when");
    expect_error("rule \"a\" { when = function() end }\n", "main.lua:1:", "score");
    expect_error("rule \"a\"\n", "main.lua:1:", "has no body");
    expect_error(ok_rule, "no pipeline is declared", NULL);
    expect_error("rule \"a\" { score = 1, tags = {1}, when = function() end }\n",
                 "main.lua:1:", "tags");
    expect_error("pipeline \"p\" { stages = {} }\npipeline \"p\" { stages = {} }\n",
                 "main.lua:2:", "already defined");
}

static void test_load_time_errors(void) {
    expect_error("local x = nil\nlocal y = x.field\n", "main.lua:2:", NULL);
    expect_error("\n\nwhile true do end\n", "main.lua:3:", "instruction budget");
    expect_error("local r = verdict.re('(unclosed')\n", "main.lua:1:", "bad pattern");
    expect_error("local l = verdict.lines 'lists/missing.txt'\n", "main.lua:1:", "no file");
    expect_error("local c = verdict.cidrs {'10.0.0.0/8', 'banana'}\n", "main.lua:1:", "banana");
    expect_error("local f = io.open('/etc/passwd')\n", "main.lua:1:", "io");
}

/* Lua has no line per key of a table constructor: the error names the key's own line, found
 * in the declaration's text past comments, strings and function bodies. */
static void test_errors_at_the_key(void) {
    expect_error("rule \"a\" {\n"
                 "  description = \"} score = { when = [[\", -- score = 5 {\n"
                 "  --[==[ score =\n ]] ]==] when = function(ev)\n"
                 "    local t = { score = 1 }\n"
                 "    score = t\n"
                 "  end,\n"
                 "  [\"score\"] = \"high\",\n"
                 "}\n",
                 "main.lua:8:", "score must be a finite number");
    expect_error("rule \"a\" {\n  score = 1, when = function() end,\n  scroe = 2 }\n",
                 "main.lua:3:", "unknown key 'scroe' (did you mean 'score'?");
    expect_error("rule \"a\" { score = 1, when = function() end }\n"
                 "pipeline \"p\" {\n  stages = { stage \"s\" {\"a\"} },\n"
                 "  log = {\n    hash = { 'email' },\n    sample = 5,\n  },\n}\n",
                 "main.lua:6:", "log.sample");
    expect_error("rule \"a\" { score = 1, when = function() end }\n"
                 "pipeline \"p\" { stages = { stage \"s\" {\"a\"} }, actions = {\n"
                 "\n  challenge = 5, block = 5 } }\n",
                 "main.lua:4:", "share the bound 5");
    expect_error("rule \"alpha\" { score = 1, when = function() end }\n"
                 "pipeline \"p\" { stages = { stage \"t\" {\"alpha\"}, stage \"s\" {\n"
                 "  \"alpha\",\n  \"alhpa\" } } }\n",
                 "main.lua:4:", "unknown rule 'alhpa' (did you mean 'alpha'?)");
    expect_error("rule \"a\" { score = 1, when = function() end }\n"
                 "pipeline \"p\" { stages = { stage \"s\" {\"a\",\n"
                 "  on_error = \"blok\" } }, actions = { block = 9 } }\n",
                 "main.lua:3:", "(did you mean 'block'?)");
    expect_error("rule \"a\" {\n  score = 1,\n  stop = \"alow\",\n  when = function() end }\n"
                 "pipeline \"p\" { stages = { stage \"s\" {\"a\"} } }\n",
                 "main.lua:3:", "(did you mean 'allow'?)");
    /* A declaration built by code has no text to search: its own line. */
    expect_error("local spec = {\n  scor = 1,\n  when = function() end }\nrule \"a\" (spec)\n",
                 "main.lua:4:", "unknown key 'scor'");
    expect_error("local kind = verdict.list('lists/x.txt', 'ips')\n",
                 "main.lua:1:", "unknown kind 'ips' (did you mean 'ip'?");
}

static void test_empty_directory(void) {
    const char *files[] = {"README.txt", "no policies here", NULL};
    vd_policy_t *p = NULL;
    char err[512] = "";
    CU_ASSERT_EQUAL(vd_test_load(files, &p, err, sizeof err), VD_EPOLICY);
    CU_ASSERT_PTR_NOT_NULL(strstr(err, "no policy files"));
    vd_policy_src_t *src;
    CU_ASSERT_EQUAL(vd_policy_src_read("/nonexistent/dir", &src, err, sizeof err), VD_EIO);
    CU_ASSERT_PTR_NOT_NULL(strstr(err, "/nonexistent/dir"));
}

void vd_suite_policy(void) {
    static const vd_test_t tests[] = {
        {"a valid policy loads", test_loads_and_describes},
        {"rules, pipelines and lists across files", test_rules_and_pipelines_across_files},
        {"syntax error names file:line", test_syntax_error_has_file_line},
        {"unknown keys are refused", test_unknown_keys},
        {"unknown rules and actions are refused", test_references},
        {"thresholds are validated", test_thresholds},
        {"declaration mistakes", test_declaration_mistakes},
        {"errors while a file runs", test_load_time_errors},
        {"errors at the offending key's line", test_errors_at_the_key},
        {"empty or missing directory", test_empty_directory},
        {NULL, NULL}};
    vd_add_suite("policy", tests);
}
