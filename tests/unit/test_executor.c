/* The executor without a socket: the shipped pipelines decided offline, with a clock and a
 * state store the test controls, events as JSON and msgpack, plugins that complete later
 * waited for inline, and the errors a caller can make. */
#include "base/error.h"
#include "decision/recorded.h"
#include "exec/offline.h"
#include "state/store.h"
#include "vd_test.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static char source_dir[512], plugins_dir[600], test_plugins_dir[600], data_dir[600];

/* The directories of this checkout and build (set by CTest; defaults for a manual run). */
static void locate(void) {
    const char *src = getenv("VD_SOURCE_DIR"), *build = getenv("VD_BUILD_DIR");
    snprintf(source_dir, sizeof source_dir, "%s", src ? src : "..");
    snprintf(data_dir, sizeof data_dir, "%s/data", source_dir);
    snprintf(plugins_dir, sizeof plugins_dir, "%s/plugins", build ? build : ".");
    snprintf(test_plugins_dir, sizeof test_plugins_dir, "%s/test-plugins", build ? build : ".");
}

/* A clock the test sets by hand. */
static int64_t fake_now;

static int64_t read_fake(void *ud) {
    (void)ud;
    return fake_now;
}

static const vd_clock_t fake_clock = {read_fake, NULL};

static vd_executor_t *open_dir(const char *dir, vd_store_t *store, const vd_clock_t *clock) {
    const char *dirs[] = {plugins_dir, test_plugins_dir};
    vd_offline_config_t cfg = {.policy_dir = dir,
                               .data_dir = data_dir,
                               .plugin_dirs = dirs,
                               .nplugin_dirs = 2,
                               .store = store,
                               .clock = clock};
    vd_executor_t *x = NULL;
    char err[1024] = "";
    int rc = vd_executor_open(&x, &cfg, err, sizeof err);
    if (rc) fprintf(stderr, "cannot open %s: %s\n", dir, err);
    CU_ASSERT_FATAL(rc == 0);
    return x;
}

static vd_executor_t *open_shipped(vd_store_t *store, const vd_clock_t *clock) {
    char dir[600];
    snprintf(dir, sizeof dir, "%s/policies", source_dir);
    return open_dir(dir, store, clock);
}

static int run(vd_executor_t *x, const char *pipeline, const char *json, vd_result_t *res) {
    int rc = vd_executor_run_json(x, pipeline, json, strlen(json), NULL, res);
    if (rc) fprintf(stderr, "%s: %s\n", pipeline, res->error);
    return rc;
}

static const vd_reason_t *reason(const vd_result_t *res, const char *rule) {
    const vd_vec_t *v = &res->d->main.reasons;
    for (uint32_t i = 0; i < v->len; i++)
        if (strcmp(VD_VEC_AT(*v, vd_reason_t, i).rule, rule) == 0)
            return &VD_VEC_AT(*v, vd_reason_t, i);
    return NULL;
}

static const vd_feature_t *feature(const vd_result_t *res, const char *name) {
    return vd_decision_feature(res->d, name, strlen(name), 1);
}

#define GOOD_SIGNUP                                                                                \
    "{\"ip\": \"80.133.10.20\", \"email\": \"jane.doe@gmail.com\", \"username\": \"janedoe\", "    \
    "\"user_agent\": \"Mozilla/5.0 (X11; Linux x86_64) Firefox/121.0\", \"country\": \"DE\", "     \
    "\"asn\": 3320, \"form_ms\": 8200}"
#define BOT_SIGNUP                                                                                 \
    "{\"ip\": \"45.77.1.2\", \"email\": \"k8x2mq9vz7w3@guerrillamail.com\", \"username\": "        \
    "\"admin_01\", \"user_agent\": \"python-requests/2.31\", \"asn\": 20473, \"form_ms\": 300, "   \
    "\"country\": \"NL\"}"

static void test_shipped_signup(void) {
    vd_executor_t *x = open_shipped(NULL, NULL);
    vd_result_t res;
    CU_ASSERT_EQUAL_FATAL(run(x, "signup", GOOD_SIGNUP, &res), 0);
    CU_ASSERT_STRING_EQUAL(res.d->action, "allow");
    CU_ASSERT_EQUAL(res.d->main.score, 0);
    CU_ASSERT_EQUAL(strlen(res.policy), 16);
    const vd_feature_t *country = feature(&res, "geo_country");
    CU_ASSERT_FATAL(country && country->value.type == VD_VAL_STR);
    CU_ASSERT_NSTRING_EQUAL(country->value.u.s.ptr, "DE", 2);
    CU_ASSERT_EQUAL_FATAL(run(x, "signup", BOT_SIGNUP, &res), 0);
    CU_ASSERT_STRING_EQUAL(res.d->action, "block");
    const char *expected[] = {"disposable_email", "role_username", "automation_user_agent",
                              "form_filled_too_fast", "datacenter_network"};
    for (size_t i = 0; i < sizeof expected / sizeof *expected; i++)
        CU_ASSERT_PTR_NOT_NULL(reason(&res, expected[i]));
    vd_executor_free(x);
}

/* A message of about 2 KB, as make bench sends. */
static char *spam_message(void) {
    const char *head = "{\"from\": \"\\\"service@paypal.com\\\" <alert@secure-pay.xyz>\", "
                       "\"to\": \"bob@example.org\", \"subject\": \"URGENT: YOU HAVE WON A PRIZE\","
                       " \"headers\": {\"authentication-results\": \"mx.example.org; spf=fail\", "
                       "\"Content-Type\": \"text/html\"}, \"raw\": \"From: alert@secure-pay.xyz"
                       "\\r\\nSubject: URGENT: YOU HAVE WON A PRIZE\\r\\n\\r\\nClaim your prize "
                       "now via Western Union\", \"body\": \"";
    const char *line = "<p>Click here to claim your lottery prize via Western Union: "
                       "http://bit.ly/abc</p> ";
    size_t n = strlen(head) + 30 * strlen(line) + 8;
    char *json = malloc(n);
    CU_ASSERT_PTR_NOT_NULL_FATAL(json);
    strcpy(json, head);
    for (int i = 0; i < 30; i++)
        strcat(json, line);
    strcat(json, "\"}");
    return json;
}

static void test_shipped_mail(void) {
    vd_executor_t *x = open_shipped(NULL, NULL);
    vd_result_t res;
    const char *ham = "{\"from\": \"Alice <alice@example.org>\", \"to\": \"bob@example.org\", "
                      "\"subject\": \"Lunch tomorrow?\", \"body\": \"Shall we meet at noon?\", "
                      "\"headers\": {\"Message-ID\": \"<1@example.org>\", "
                      "\"Date\": \"Mon, 1 Jan 2024 10:00:00 +0000\"}}";
    CU_ASSERT_EQUAL_FATAL(run(x, "mail", ham, &res), 0);
    CU_ASSERT_STRING_EQUAL(res.d->action, "deliver");
    char *spam = spam_message();
    CU_ASSERT_EQUAL_FATAL(run(x, "mail", spam, &res), 0);
    CU_ASSERT_STRING_EQUAL(res.d->action, "reject");
    CU_ASSERT_PTR_NOT_NULL(reason(&res, "display_name_spoof"));
    CU_ASSERT_PTR_NOT_NULL(feature(&res, "textclf_log_odds"));
    free(spam);
    vd_executor_free(x);
}

/* The caller's clock drives the windows of counters and the expiry of labels. */
static void test_shipped_login_with_a_clock(void) {
    fake_now = 1767225600;
    vd_executor_t *x = open_shipped(NULL, &fake_clock);
    vd_result_t res;
    const char *fail = "{\"account\": \"alice\", \"ip\": \"198.51.100.7\", \"password_ok\": false}";
    const char *ok = "{\"account\": \"alice\", \"ip\": \"198.51.100.7\", \"password_ok\": true}";
    for (int i = 1; i <= 6; i++) {
        CU_ASSERT_EQUAL_FATAL(run(x, "login", fail, &res), 0);
        CU_ASSERT_EQUAL(reason(&res, "failed_logins_for_account") != NULL, i == 6);
        fake_now += 60;
    }
    CU_ASSERT_EQUAL_FATAL(run(x, "login", ok, &res), 0);
    CU_ASSERT_PTR_NOT_NULL(reason(&res, "account_under_attack"));
    fake_now += 2 * 3600; /* the label and the hour's failures are gone */
    CU_ASSERT_EQUAL_FATAL(run(x, "login", ok, &res), 0);
    CU_ASSERT_PTR_NULL(reason(&res, "account_under_attack"));
    CU_ASSERT_EQUAL_FATAL(run(x, "login", fail, &res), 0);
    CU_ASSERT_PTR_NULL(reason(&res, "failed_logins_for_account"));
    vd_executor_free(x);
}

/* A run may also carry its own time (a replay of recorded events), and two executors
 * given the same store share counters. */
static void test_shared_store_and_event_time(void) {
    vd_store_t *store = vd_store_new((size_t)16 << 20);
    CU_ASSERT_PTR_NOT_NULL_FATAL(store);
    vd_executor_t *a = open_shipped(store, NULL), *b = open_shipped(store, NULL);
    vd_result_t res;
    const char *ev = "{\"ip\": \"203.0.113.9\", \"email\": \"a@example.org\"}";
    vd_run_opts_t at = {.now_s = 1767225600};
    for (int i = 1; i <= 21; i++) {
        vd_executor_t *x = i % 2 ? a : b;
        CU_ASSERT_EQUAL_FATAL(vd_executor_run_json(x, "signup", ev, strlen(ev), &at, &res), 0);
        CU_ASSERT_EQUAL(reason(&res, "network_burst") != NULL, i == 21);
    }
    at.now_s += 7200; /* two hours later the network is quiet again */
    CU_ASSERT_EQUAL_FATAL(vd_executor_run_json(a, "signup", ev, strlen(ev), &at, &res), 0);
    CU_ASSERT_PTR_NULL(reason(&res, "network_burst"));
    vd_executor_free(a);
    vd_executor_free(b);
    vd_store_free(store);
}

/* A replay's recorded answers: a counter read gets the record's counts (adjusted when the
 * candidate adds another amount), a key the record lacks goes to the store, each answer once. */
static void test_recorded_answers(void) {
    char dir[32];
    const char *files[] = {"main.lua",
                           "rule \"c\" { score = function(ev, ctx) return ctx.features.n end,\n"
                           "  when = function(ev, ctx)\n"
                           "    local m = verdict.counter('k', ev.add)\n"
                           "    ctx:set('n', m + verdict.counter('other'))\n"
                           "    return true end }\n"
                           "pipeline \"p\" { stages = { stage \"s\" { \"c\" } } }\n",
                           NULL};
    CU_ASSERT_EQUAL_FATAL(vd_test_write_dir(files, dir), 0);
    vd_store_t *store = vd_store_new((size_t)16 << 20);
    vd_executor_t *x = open_dir(dir, store, NULL);
    CU_ASSERT_PTR_NOT_NULL_FATAL(x);
    vd_observed_t items[] = {
        {.kind = VD_OBS_COUNTER, .name = "k", .len = 1, .n = 1, .res = {40, 41, 42}}};
    unsigned char used[1] = {0};
    vd_recorded_t rec = {.items = items, .n = 1, .used = used, .state = 1, .plugins = 1};
    vd_run_opts_t opts = {.now_s = 1767225600, .recorded = &rec};
    vd_result_t res;
    const char *ev = "{\"add\": 1}";
    CU_ASSERT_EQUAL_FATAL(vd_executor_run_json(x, "p", ev, strlen(ev), &opts, &res), 0);
    CU_ASSERT_DOUBLE_EQUAL(res.d->main.score, 41.0, 1e-9); /* 40 recorded + 1 from the store */
    used[0] = 0;
    ev = "{\"add\": 3}";
    CU_ASSERT_EQUAL_FATAL(vd_executor_run_json(x, "p", ev, strlen(ev), &opts, &res), 0);
    CU_ASSERT_DOUBLE_EQUAL(res.d->main.score, 44.0, 1e-9); /* 40 - 1 + 3, then 'other' is 2 */
    vd_executor_free(x);
    vd_store_free(store);
    vd_test_remove_dir(dir);
}

static void test_msgpack_and_json_agree(void) {
    vd_executor_t *x = open_shipped(NULL, NULL);
    const char *kv[] = {"ip", "203.0.113.7", "email", "x@mailinator.com", NULL};
    vd_test_event_t ev;
    vd_test_event(&ev, kv);
    vd_result_t res;
    CU_ASSERT_EQUAL_FATAL(vd_executor_run_msgpack(x, "signup", ev.sb.data, ev.sb.size, NULL, &res),
                          0);
    double score = res.d->main.score;
    const char *action = res.d->action;
    CU_ASSERT_PTR_NOT_NULL(reason(&res, "disposable_email"));
    const char *json = "{\"ip\": \"203.0.113.7\", \"email\": \"x@mailinator.com\"}";
    CU_ASSERT_EQUAL_FATAL(run(x, "signup", json, &res), 0);
    CU_ASSERT_EQUAL(res.d->main.score, score);
    CU_ASSERT_STRING_EQUAL(res.d->action, action);
    /* The result packs as the decide method's result map. */
    msgpack_sbuffer sb;
    msgpack_sbuffer_init(&sb);
    vd_result_pack(&sb, &res);
    msgpack_unpacked up;
    msgpack_unpacked_init(&up);
    CU_ASSERT_EQUAL(msgpack_unpack_next(&up, sb.data, sb.size, NULL), MSGPACK_UNPACK_SUCCESS);
    CU_ASSERT_EQUAL(up.data.type, MSGPACK_OBJECT_MAP);
    msgpack_unpacked_destroy(&up);
    msgpack_sbuffer_destroy(&sb);
    vd_test_event_free(&ev);
    vd_executor_free(x);
}

static void test_caller_errors(void) {
    vd_executor_t *x = open_shipped(NULL, NULL);
    vd_result_t res;
    CU_ASSERT_EQUAL(vd_executor_run_json(x, "signup", "{\"ip\": ", 7, NULL, &res), VD_EINVAL);
    CU_ASSERT_PTR_NOT_NULL(strstr(res.error, "not valid JSON"));
    CU_ASSERT_EQUAL(vd_executor_run_json(x, "signup", "[1, 2]", 6, NULL, &res), VD_EINVAL);
    CU_ASSERT_PTR_NOT_NULL(strstr(res.error, "event must be a map"));
    CU_ASSERT_EQUAL(vd_executor_run_json(x, "nope", "{}", 2, NULL, &res), VD_ENOTFOUND);
    CU_ASSERT_PTR_NOT_NULL(strstr(res.error, "no pipeline 'nope'"));
    CU_ASSERT_EQUAL(vd_executor_run_msgpack(x, "signup", "\xc1", 1, NULL, &res), VD_EINVAL);
    /* After errors the executor still decides. */
    CU_ASSERT_EQUAL(run(x, "signup", GOOD_SIGNUP, &res), 0);
    vd_executor_free(x);
    /* A policy that does not load says where. */
    const char *files[] = {"p.lua", "rule \"r\" { score = 1, when = 42 }\n", NULL};
    char dir[32];
    CU_ASSERT_FATAL(vd_test_write_dir(files, dir) == 0);
    vd_offline_config_t cfg = {.policy_dir = dir};
    char err[512] = "";
    CU_ASSERT_NOT_EQUAL(vd_executor_open(&x, &cfg, err, sizeof err), 0);
    CU_ASSERT_PTR_NOT_NULL(strstr(err, "p.lua:1:"));
    vd_test_remove_dir(dir);
}

/* Plugins that complete from their own thread are waited for inline; their deadlines hold. */
static void test_waiting_plugins_resolved_inline(void) {
    const char *files[] = {
        "p.lua",
        "pipeline \"slow\" { stages = { plugin \"async\" { delay_ms = 20, score = 7 } },\n"
        "                   actions = { review = 5 } }\n"
        "pipeline \"never\" { stages = { plugin \"async\" { never = true, timeout_ms = 50 } } }\n"
        "rule \"after\" { score = 1, when = function() return true end }\n"
        "pipeline \"late\" { stages = { plugin \"async\" { never = true }, stage \"s\" {\"after\"} "
        "} }\n",
        NULL};
    char dir[32];
    CU_ASSERT_FATAL(vd_test_write_dir(files, dir) == 0);
    vd_executor_t *x = open_dir(dir, NULL, NULL);
    vd_result_t res;
    CU_ASSERT_EQUAL_FATAL(run(x, "slow", "{\"ip\": \"192.0.2.1\"}", &res), 0);
    CU_ASSERT_STRING_EQUAL(res.d->action, "review");
    CU_ASSERT_PTR_NOT_NULL(reason(&res, "async_hit"));
    CU_ASSERT(res.elapsed_ns >= 15 * 1000000);
    CU_ASSERT_EQUAL_FATAL(run(x, "never", "{}", &res), 0);
    CU_ASSERT_EQUAL(res.d->faults.len, 1);
    CU_ASSERT_PTR_NOT_NULL(
        strstr(VD_VEC_AT(res.d->faults, vd_fault_t, 0).message, "did not answer within"));
    vd_run_opts_t quick = {.deadline_ms = 20};
    CU_ASSERT_EQUAL(vd_executor_run_json(x, "late", "{}", 2, &quick, &res), VD_ETIMEOUT);
    CU_ASSERT_PTR_NOT_NULL(strstr(res.error, "deadline"));
    vd_executor_free(x);
    vd_test_remove_dir(dir);
}

/* An event too big for the Lua state's memory cap fails its Lua stages, not the process. */
static void test_event_over_the_memory_cap(void) {
    const char *files[] = {"p.lua",
                           "rule \"r\" { score = 1, when = function(ev) return ev.k1 ~= nil end }\n"
                           "pipeline \"p\" { stages = { stage \"s\" {\"r\"} } }\n",
                           NULL};
    char dir[32];
    CU_ASSERT_FATAL(vd_test_write_dir(files, dir) == 0);
    vd_offline_config_t cfg = {.policy_dir = dir, .lua_memory = (size_t)1 << 20};
    vd_executor_t *x = NULL;
    char err[512];
    CU_ASSERT_FATAL(vd_executor_open(&x, &cfg, err, sizeof err) == 0);
    msgpack_sbuffer sb;
    msgpack_packer pk;
    msgpack_sbuffer_init(&sb);
    msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
    msgpack_pack_map(&pk, 100000);
    for (int i = 0; i < 100000; i++) {
        char key[16];
        int n = snprintf(key, sizeof key, "k%d", i);
        msgpack_pack_str_with_body(&pk, key, (size_t)n);
        msgpack_pack_int(&pk, i);
    }
    vd_result_t res;
    CU_ASSERT_EQUAL(vd_executor_run_msgpack(x, "p", sb.data, sb.size, NULL, &res), 0);
    CU_ASSERT_EQUAL_FATAL(res.d->faults.len, 1);
    CU_ASSERT_PTR_NOT_NULL(
        strstr(VD_VEC_AT(res.d->faults, vd_fault_t, 0).message, "out of Lua memory"));
    CU_ASSERT_EQUAL(run(x, "p", "{\"k1\": 1}", &res), 0); /* and the next one is decided */
    CU_ASSERT_EQUAL(res.d->main.reasons.len, 1);
    msgpack_sbuffer_destroy(&sb);
    vd_executor_free(x);
    vd_test_remove_dir(dir);
    /* A rule that keeps what it allocates fills the state: requests still get decisions. */
    const char *hog[] = {
        "p.lua",
        "local head = {}\n"
        "rule \"hog\" { score = 1, when = function(ev)\n"
        "  pcall(function() while true do head = {head, string.rep('x', 999)} end end)\n"
        "  return false end }\n"
        "pipeline \"p\" { stages = { stage \"s\" {\"hog\"} } }\n",
        NULL};
    CU_ASSERT_FATAL(vd_test_write_dir(hog, dir) == 0);
    cfg.policy_dir = dir;
    cfg.lua_instructions = 100000000;
    CU_ASSERT_FATAL(vd_executor_open(&x, &cfg, err, sizeof err) == 0);
    for (int i = 0; i < 3; i++)
        CU_ASSERT_EQUAL(run(x, "p", "{\"a\": 1}", &res), 0);
    vd_executor_free(x);
    vd_test_remove_dir(dir);
}

void vd_suite_executor(void) {
    locate();
    static const vd_test_t tests[] = {
        {"shipped signup pipeline", test_shipped_signup},
        {"shipped mail pipeline", test_shipped_mail},
        {"shipped login pipeline on a caller's clock", test_shipped_login_with_a_clock},
        {"a shared store and an event's own time", test_shared_store_and_event_time},
        {"msgpack and JSON events agree", test_msgpack_and_json_agree},
        {"a replay's recorded answers", test_recorded_answers},
        {"errors of the caller", test_caller_errors},
        {"waiting plugins resolved inline", test_waiting_plugins_resolved_inline},
        {"an event over the Lua memory cap", test_event_over_the_memory_cap},
        {NULL, NULL}};
    vd_add_suite("executor", tests);
}
