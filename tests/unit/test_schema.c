/* A pipeline's event fields: compiled when the policy loads (errors at the field's line), then
 * every event checked against them before the run, in the daemon and offline alike. */
#include "base/error.h"
#include "base/stats.h"
#include "exec/event_check.h"
#include "exec/offline.h"
#include "vd_test.h"

#include <stdio.h>
#include <string.h>

static const char *const rule_a = "rule \"a\" { score = 1, when = function(ev) return true end }\n";

/* Loads rule a and a pipeline "p" with the given fields, or expects an error with needles. */
static vd_policy_t *with_fields(const char *fields, const char *needle1, const char *needle2) {
    char text[2048];
    snprintf(text, sizeof text,
             "%spipeline \"p\" {\n  stages = { stage \"s\" { \"a\" } },\n  fields = %s,\n}\n",
             rule_a, fields);
    const char *files[] = {"main.lua", text, NULL};
    vd_policy_t *p = NULL;
    char err[1024] = "";
    int rc = vd_test_load(files, &p, err, sizeof err);
    if (!needle1) {
        if (rc) fprintf(stderr, "\n  %s\n", err);
        CU_ASSERT_FATAL(rc == 0);
        return p;
    }
    CU_ASSERT_NOT_EQUAL(rc, 0);
    if (!strstr(err, needle1) || (needle2 && !strstr(err, needle2))) {
        fprintf(stderr, "\n  error was: %s\n  expected: %s / %s\n", err, needle1,
                needle2 ? needle2 : "");
        CU_FAIL("error message lacks the expected text");
    }
    if (rc == 0) vd_policy_unref(p);
    return NULL;
}

static void test_fields_compile(void) {
    vd_policy_t *p = with_fields("{ ip = 'ip', email = 'string', age = 'number?', n = 'integer?',"
                                 " ok = 'boolean?', tags = 'array?', meta = 'map?', x = 'any',"
                                 " t = 'table?' }",
                                 NULL, NULL);
    const vd_schema_t *s = &vd_policy_pipeline(p, "p", 1)->fields;
    CU_ASSERT_EQUAL(s->n, 9);
    CU_ASSERT_STRING_EQUAL(s->fields[0].name, "age"); /* sorted */
    CU_ASSERT(s->fields[0].optional);
    CU_ASSERT_EQUAL(s->fields[0].type, VD_FIELD_NUMBER);
    const vd_schema_field_t *ip = vd_schema_find(s, "ip", 2);
    CU_ASSERT_PTR_NOT_NULL_FATAL(ip);
    CU_ASSERT(!ip->optional && ip->type == VD_FIELD_IP);
    CU_ASSERT_PTR_NULL(vd_schema_find(s, "i", 1));
    CU_ASSERT_EQUAL(vd_policy_pipeline(p, "p", 1)->fields.n, 9);
    vd_policy_unref(p);
}

static void test_fields_errors(void) {
    with_fields("{\n    ip = 'ip',\n    email = 'strng',\n  }",
                "main.lua:6:", "fields.email: unknown type 'strng' (did you mean 'string'?");
    with_fields("{ age = 5 }", "main.lua:4:", "fields.age must be a type name");
    with_fields("{ 'ip' }", "main.lua:4:", "fields must map event field names to types");
    with_fields("'ip'", "main.lua:4:", "'fields' must be a table");
    with_fields("{ ip = 'ip?"
                "?' }",
                "main.lua:4:", "unknown type 'ip?'");
    char many[2048] = "{ ";
    for (int i = 0; i <= VD_SCHEMA_MAX_FIELDS; i++)
        snprintf(many + strlen(many), sizeof many - strlen(many), "f%d = 'any', ", i);
    strcat(many, "}");
    with_fields(many, "main.lua:4:", "more than 64");
}

/* Checks the event kv against pl: accepted (needle NULL), or refused with needle in the reason. */
static void check(const vd_pipeline_t *pl, const char *const *kv, const char *needle) {
    vd_test_event_t e;
    char why[512] = "";
    int rc = vd_event_check(pl, vd_test_typed_event(&e, kv), why, sizeof why);
    if (!needle) {
        if (rc) fprintf(stderr, "\n  refused: %s\n", why);
        CU_ASSERT_EQUAL(rc, 0);
    } else {
        CU_ASSERT_EQUAL(rc, VD_EINVAL);
        if (!strstr(why, needle)) fprintf(stderr, "\n  refused: %s\n  expected: %s\n", why, needle);
        CU_ASSERT_PTR_NOT_NULL(strstr(why, needle));
    }
    vd_test_event_free(&e);
}

static void test_events_checked(void) {
    vd_policy_t *p = with_fields("{ ip = 'ip', email = 'string', age = 'number?', n = 'integer?',"
                                 " ok = 'boolean?', tags = 'array?', meta = 'map?', x = 'any',"
                                 " t = 'table?' }",
                                 NULL, NULL);
    vd_pipeline_t *pl = &p->pipelines[0];
    vd_stat_nodes_t nodes;
    vd_stat_nodes_init(&nodes);
    pl->stats = vd_stats_node(&nodes, "p", "");
    check(pl, (const char *[]){"ip", "s203.0.113.7", "email", "sa@b", "x", "i1", NULL}, NULL);
    check(pl,
          (const char *[]){"ip",   "b2001:db8::1", "email", "ba@b", "x", "sy",   "age", "f2.5", "n",
                           "f3",   "ok",           "F",     "tags", "a", "meta", "m",   "t",    "a",
                           "more", "i1",           NULL},
          NULL);
    check(pl, (const char *[]){"ip", "s1.2.3.4", "email", "sa", "x", "t", "age", "n", NULL},
          NULL); /* nil: not given */
    check(pl, (const char *[]){"email", "sa@b", "x", "i1", NULL},
          "the event lacks the field 'ip' (an IP address)");
    check(pl, (const char *[]){"ip", "n", "email", "sa@b", "x", "i1", NULL},
          "lacks the field 'ip'");
    check(pl, (const char *[]){"ip", "s1.2.3.4", "email", "sa@b", NULL}, "lacks the field 'x'");
    check(pl, (const char *[]){"ip", "snot an address", "email", "sa", "x", "i1", NULL},
          "event field 'ip' must be an IP address, and 'not an address' is not one");
    check(pl, (const char *[]){"ip", "i7", "email", "sa", "x", "i1", NULL},
          "event field 'ip' must be an IP address, not an integer");
    check(pl, (const char *[]){"ip", "s::1", "email", "i5", "x", "i1", NULL},
          "pipeline 'p': event field 'email' must be a string, not an integer");
    check(pl, (const char *[]){"ip", "s::1", "email", "sa", "x", "i1", "n", "f2.5", NULL},
          "'n' must be an integer, not a number with a fraction");
    check(pl, (const char *[]){"ip", "s::1", "email", "sa", "x", "i1", "age", "ssix", NULL},
          "'age' must be a number, not a string");
    check(pl, (const char *[]){"ip", "s::1", "email", "sa", "x", "i1", "t", "t", NULL},
          "'t' must be a map or an array, not a boolean");
    CU_ASSERT_EQUAL(vd_counter_get(&pl->stats->invalid), 9);
    pl->stats = NULL;
    vd_stat_nodes_close(&nodes);
    vd_policy_unref(p);
}

/* Offline runs (verdict test, replays) refuse such events the same way. */
static void test_offline_refuses(void) {
    char text[1024];
    snprintf(text, sizeof text,
             "%spipeline \"p\" { stages = { stage \"s\" { \"a\" } }, fields = { ip = 'ip' } }\n",
             rule_a);
    const char *files[] = {"p.lua", text, NULL};
    char dir[32];
    CU_ASSERT_FATAL(vd_test_write_dir(files, dir) == 0);
    vd_offline_config_t cfg = {.policy_dir = dir};
    vd_executor_t *x = NULL;
    char err[512];
    CU_ASSERT_FATAL(vd_executor_open(&x, &cfg, err, sizeof err) == 0);
    vd_result_t res;
    const char *bad = "{\"ip\": 12}", *good = "{\"ip\": \"10.1.2.3\"}";
    CU_ASSERT_EQUAL(vd_executor_run_json(x, "p", bad, strlen(bad), NULL, &res), VD_EINVAL);
    CU_ASSERT_PTR_NOT_NULL(strstr(res.error, "'ip' must be an IP address, not an integer"));
    CU_ASSERT_EQUAL(vd_executor_run_json(x, "p", good, strlen(good), NULL, &res), 0);
    CU_ASSERT_STRING_EQUAL(res.d->action, "allow");
    vd_executor_free(x);
    vd_test_remove_dir(dir);
}

void vd_suite_schema(void) {
    static const vd_test_t tests[] = {{"fields compile", test_fields_compile},
                                      {"fields errors at their line", test_fields_errors},
                                      {"events checked against fields", test_events_checked},
                                      {"offline runs refuse bad events", test_offline_refuses},
                                      {NULL, NULL}};
    vd_add_suite("schema", tests);
}
