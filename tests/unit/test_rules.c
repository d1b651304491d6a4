/* The rule API as a policy writer sees it, run through vd_pipeline_run. */
#include "base/arena.h"
#include "base/clock.h"
#include "base/error.h"
#include "exec/run.h"
#include "lua/lua_format.h"
#include "lua/state.h"
#include "vd_test.h"

#include <lauxlib.h>
#include <stdio.h>
#include <string.h>

typedef vd_test_run_t run_t;

static void run(run_t *r, vd_policy_t *p, const char *pipeline, const char *const *kv) {
    vd_test_run(r, p, pipeline, kv);
}

static void done(run_t *r) {
    vd_test_run_free(r);
}

static const vd_reason_t *reason(const vd_outcome_t *o, uint32_t i) {
    return i < o->reasons.len ? &VD_VEC_AT(o->reasons, vd_reason_t, i) : NULL;
}

static const char *fault_msg(const vd_decision_t *d, uint32_t i) {
    return i < d->faults.len ? VD_VEC_AT(d->faults, vd_fault_t, i).message : "";
}

static void test_thresholds_and_reasons(void) {
    vd_policy_t *p =
        vd_test_policy("rule \"big\" { score = 7, tags = {\"x\"}, when = function(ev) return ev.n "
                       "== '1', 'detail!' end }\n"
                       "rule \"small\" { score = 3, when = function(ev) return ev.m ~= nil end }\n"
                       "pipeline \"p\" { stages = { stage \"s\" {\"big\", \"small\"} },\n"
                       "  actions = { challenge = 5, block = 10 } }\n");
    run_t r;
    const char *none[] = {NULL};
    run(&r, p, "p", none);
    CU_ASSERT_EQUAL(r.rc, 0);
    CU_ASSERT_STRING_EQUAL(r.d.action, "allow");
    CU_ASSERT_EQUAL(r.d.main.reasons.len, 0);
    done(&r);
    const char *one[] = {"n", "1", NULL};
    run(&r, p, "p", one);
    CU_ASSERT_STRING_EQUAL(r.d.action, "challenge");
    CU_ASSERT_STRING_EQUAL(reason(&r.d.main, 0)->detail, "detail!");
    CU_ASSERT_STRING_EQUAL(reason(&r.d.main, 0)->stage, "s");
    CU_ASSERT_STRING_EQUAL(VD_VEC_AT(r.d.main.tags, const char *, 0), "x");
    done(&r);
    const char *both[] = {"n", "1", "m", "z", NULL};
    run(&r, p, "p", both);
    CU_ASSERT_STRING_EQUAL(r.d.action, "block");
    CU_ASSERT_DOUBLE_EQUAL(r.d.main.score, 10.0, 1e-12);
    done(&r);
    vd_policy_unref(p);
}

/* A rule's detail format is filled with what its when function returns, only when it fires;
 * rules without one keep their detail as returned, extra values ignored. */
static void test_detail_formats(void) {
    vd_policy_t *p = vd_test_policy(
        "rule \"fmt\" { score = 1, detail = '%d seen from %s',\n"
        "  when = function(ev) return ev.n ~= nil, tonumber(ev.n), ev.ip end }\n"
        "rule \"lazy\" { score = 1, detail = '%d', when = function(ev) return false, 'x' end }\n"
        "rule \"bad\" { score = 1, detail = '%d', when = function(ev) return ev.bad ~= nil, 'x' "
        "end }\n"
        "rule \"scored\" { score = function(ev) return 2 end, detail = 'n=%s',\n"
        "  when = function(ev) return ev.n ~= nil, ev.n end }\n"
        "rule \"plain\" { score = 1, when = function(ev) return ev.n ~= nil, '100% sure', 'x' end "
        "}\n"
        "local evil = setmetatable({}, {__tostring = function() while true do end end})\n"
        "rule \"spin\" { score = 1, detail = '%s', when = function(ev) return ev.spin ~= nil, evil "
        "end }\n"
        "rule \"many\" { score = 1, detail = string.rep('%s', 3000) .. '%x',\n"
        "  when = function(ev) local t = {} for i = 1, 3001 do t[i] = i end\n"
        "    return ev.many ~= nil, table.unpack(t) end }\n"
        "pipeline \"p\" { stages = { stage \"s\" {\"fmt\", \"lazy\", \"bad\", \"scored\", "
        "\"plain\"} } }\n"
        "pipeline \"q\" { stages = { stage \"s\" {\"spin\", \"many\"} } }\n");
    run_t r;
    const char *kv[] = {"n", "7", "ip", "203.0.113.9", NULL};
    run(&r, p, "p", kv);
    CU_ASSERT_EQUAL(r.d.faults.len, 0);
    CU_ASSERT_STRING_EQUAL(reason(&r.d.main, 0)->detail, "7 seen from 203.0.113.9");
    CU_ASSERT_STRING_EQUAL(reason(&r.d.main, 1)->rule, "scored");
    CU_ASSERT_STRING_EQUAL(reason(&r.d.main, 1)->detail, "n=7");
    CU_ASSERT_DOUBLE_EQUAL(reason(&r.d.main, 1)->score, 2.0, 1e-12);
    CU_ASSERT_STRING_EQUAL(reason(&r.d.main, 2)->detail, "100% sure"); /* no format: as is */
    done(&r);
    const char *bad[] = {"bad", "1", NULL};
    run(&r, p, "p", bad);
    CU_ASSERT_EQUAL(r.d.faults.len, 1);
    CU_ASSERT_PTR_NOT_NULL(strstr(fault_msg(&r.d, 0), "detail of rule 'bad'"));
    CU_ASSERT_PTR_NOT_NULL(strstr(fault_msg(&r.d, 0), "number expected"));
    done(&r);
    /* Lua run by the formatting keeps the budget; thousands of values are not a crash. */
    const char *spin[] = {"spin", "1", "many", "1", NULL};
    run(&r, p, "q", spin);
    CU_ASSERT_EQUAL(r.d.faults.len, 1);
    CU_ASSERT_PTR_NOT_NULL(strstr(fault_msg(&r.d, 0), "instruction budget"));
    CU_ASSERT_EQUAL_FATAL(r.d.main.reasons.len, 1);
    CU_ASSERT_STRING_EQUAL(reason(&r.d.main, 0)->rule, "many");
    CU_ASSERT_EQUAL(strlen(reason(&r.d.main, 0)->detail), 10896u); /* 1..3000, then bb9 */
    done(&r);
    vd_policy_unref(p);
}

/* The C formatter writes what string.format writes, or leaves the case to it. */
static void test_format_like_string_format(void) {
    vd_lua_limits_t limits = {.mem_limit = 16u << 20, .instr_limit = 100000};
    lua_State *L = vd_lua_new(&limits);
    CU_ASSERT_PTR_NOT_NULL_FATAL(L);
    /* Each case: a format and its arguments, as Lua source. */
    static const char *const cases[] = {"'%d from %s', 7, '203.0.113.0/24'",
                                        "'%d', -9223372036854775807 - 1",
                                        "'%i%%', 42",
                                        "'%s', 3",
                                        "'%s', true",
                                        "'%s', false",
                                        "'%s', nil",
                                        "'entropy %.2f bits', 3.14159",
                                        "'%.0f', 2.5",
                                        "'%s', 1.5",
                                        "'%d', 3.0",
                                        "'%5d', 1",
                                        "'%x', 255",
                                        "'%s', {}",
                                        "'%d', 'x'",
                                        "'%s and %s', 'a'",
                                        "'tail %'",
                                        "'no conversions', 1, 2",
                                        "'%s', 'a\\0b'",
                                        "'AS%s: %d in the hour', 20473, 501",
                                        "'%.9f', 1/3",
                                        NULL};
    int formatted = 0;
    for (const char *const *c = cases; *c; c++) {
        char src[256];
        snprintf(src, sizeof src, "return %s", *c);
        lua_settop(L, 0);
        CU_ASSERT_FATAL(luaL_dostring(L, src) == LUA_OK);
        int n = lua_gettop(L);
        size_t flen;
        const char *fmt = lua_tolstring(L, 1, &flen);
        char buf[256];
        int len = vd_lua_format(L, fmt, flen, 2, n, buf, sizeof buf);
        lua_getglobal(L, "string");
        lua_getfield(L, -1, "format");
        for (int i = 1; i <= n; i++)
            lua_pushvalue(L, i);
        int ok = lua_pcall(L, n, 1, 0) == LUA_OK;
        if (len >= 0) { /* when the C path formats, string.format agrees to the byte */
            formatted++;
            CU_ASSERT(ok);
            if (ok) {
                size_t want;
                const char *w = lua_tolstring(L, -1, &want);
                CU_ASSERT_EQUAL((size_t)len, want);
                CU_ASSERT_EQUAL(memcmp(buf, w, want), 0);
            }
        }
    }
    CU_ASSERT(formatted >= 12); /* the common cases do not need Lua */
    /* tostring's own fast path writes what Lua's does. */
    lua_settop(L, 0);
    CU_ASSERT_FATAL(luaL_dostring(L, "return tostring(math.mininteger) .. ' ' .. tostring(-7) .. "
                                     "' ' .. tostring(0) .. ' ' .. tostring(1.5) .. ' ' .. "
                                     "tostring(3.0) .. ' ' .. tostring(true) .. ' ' .. "
                                     "tostring(nil) .. ' ' .. tostring('s')") == LUA_OK);
    CU_ASSERT_STRING_EQUAL(lua_tostring(L, -1), "-9223372036854775808 -7 0 1.5 3.0 true nil s");
    vd_lua_close(L);
}

/* verdict.when conditions decide rules in C, as the when functions they stand for would. */
static void test_when_conditions(void) {
    vd_policy_t *p = vd_test_policy(
        "local re = verdict.re([[^(adm)in\\d*$]])\n"
        "local tld = verdict.domains {'xyz', 'Top'}\n"
        "local names = verdict.set {'alice', 'bob'}\n"
        "local office = verdict.cidrs {'10.0.0.0/8'}\n"
        "rule \"role\" { score = 1, when = verdict.when.matches('user', re) }\n"
        "rule \"tld\" { score = 2, when = verdict.when.email_domain_in('email', tld) }\n"
        "rule \"known\" { score = function(ev) return 4 end, when = verdict.when.is_in('user', "
        "names) }\n"
        "rule \"office\" { stop = 'allow', when = verdict.when.is_in('ip', office) }\n"
        "local cond = verdict.when.matches('user', re)\n"
        "rule \"from_lua\" { score = 8, when = function(ev) local hit, d = cond(ev) "
        "return hit, d end }\n"
        "pipeline \"p\" { stages = { stage \"s\" {\"office\", \"role\", \"tld\", "
        "\"known\", \"from_lua\"} } }\n");
    run_t r;
    const char *hit[] = {"user", "admin7", "email", "X <x@Mail.Example.TOP>", NULL};
    run(&r, p, "p", hit);
    CU_ASSERT_EQUAL(r.d.faults.len, 0);
    CU_ASSERT_STRING_EQUAL(reason(&r.d.main, 0)->rule, "role");
    CU_ASSERT_STRING_EQUAL(reason(&r.d.main, 0)->detail, "adm"); /* the first capture */
    CU_ASSERT_STRING_EQUAL(reason(&r.d.main, 1)->detail, "mail.example.top");
    CU_ASSERT_STRING_EQUAL(reason(&r.d.main, 2)->rule, "from_lua");
    CU_ASSERT_DOUBLE_EQUAL(r.d.main.score, 11.0, 1e-12);
    done(&r);
    const char *known[] = {"user", "bob", "email", "bob@example.org", NULL};
    run(&r, p, "p", known);
    CU_ASSERT_EQUAL(r.d.main.reasons.len, 1);
    CU_ASSERT_STRING_EQUAL(reason(&r.d.main, 0)->detail, "bob");
    CU_ASSERT_DOUBLE_EQUAL(r.d.main.score, 4.0, 1e-12);
    done(&r);
    const char *office[] = {"ip", "10.1.2.3", "user", "admin", NULL};
    run(&r, p, "p", office);
    CU_ASSERT_STRING_EQUAL(r.d.action, "allow");
    CU_ASSERT_EQUAL(r.d.main.reasons.len, 1); /* the stop rule, and nothing after it */
    CU_ASSERT_STRING_EQUAL(reason(&r.d.main, 0)->detail, "10.1.2.3");
    done(&r);
    const char *none[] = {"email", "no-at-sign", NULL};
    run(&r, p, "p", none);
    CU_ASSERT_EQUAL(r.d.main.reasons.len, 0);
    CU_ASSERT_EQUAL(r.d.faults.len, 0);
    done(&r);
    vd_policy_unref(p);
    /* Wrong arguments are load errors with file:line. */
    const char *files[] = {
        "main.lua", "rule \"r\" { score = 1,\n when = verdict.when.matches('x', {}) }\n", NULL};
    char err[512] = "";
    CU_ASSERT_NOT_EQUAL(vd_test_load(files, &p, err, sizeof err), 0);
    CU_ASSERT_PTR_NOT_NULL(strstr(err, "main.lua:2:"));
    CU_ASSERT_PTR_NOT_NULL(strstr(err, "must be a verdict.re"));
    const char *notcond[] = {"main.lua", "rule \"r\" { score = 1, when = 42 }\n", NULL};
    CU_ASSERT_NOT_EQUAL(vd_test_load(notcond, &p, err, sizeof err), 0);
    CU_ASSERT_PTR_NOT_NULL(strstr(err, "verdict.when condition"));
}

/* A condition over its regex match limit is a fault of its rule. */
static void test_when_condition_fault(void) {
    vd_policy_t *p = vd_test_policy(
        "rule \"r\" { score = 1, when = verdict.when.matches('s', verdict.re('^(a+)+$')) }\n"
        "pipeline \"p\" { stages = { stage \"s\" {\"r\"} } }\n");
    char text[64];
    memset(text, 'a', 40);
    strcpy(text + 40, "b");
    const char *kv[] = {"s", text, NULL};
    run_t r;
    run(&r, p, "p", kv);
    CU_ASSERT_EQUAL(r.d.faults.len, 1);
    CU_ASSERT_PTR_NOT_NULL(strstr(fault_msg(&r.d, 0), "main.lua:1: rule 'r'"));
    CU_ASSERT_PTR_NOT_NULL(strstr(fault_msg(&r.d, 0), "match limit"));
    done(&r);
    vd_policy_unref(p);
}

static void test_stop_and_features(void) {
    vd_policy_t *p = vd_test_policy(
        "local office = verdict.cidrs {'10.0.0.0/8', '2001:db8::/32'}\n"
        "rule \"allowlisted\" { stop = 'allow', when = function(ev) return office:has(ev.ip) end "
        "}\n"
        "rule \"measure\" { score = 0, when = function(ev, ctx)\n"
        "  ctx:set('domain', verdict.email_domain(ev.email)); ctx:set('len', #ev.email)\n"
        "  ctx:set('ratio', 0.5); ctx:set('flag', true); ctx:tag('measured'); return false end }\n"
        "rule \"uses\" { score = function(ev, ctx) return ctx.features.len end,\n"
        "  when = function(ev, ctx) return ctx.features.domain == 'example.com', "
        "ctx.features.domain end }\n"
        "rule \"blocker\" { stop = 'block', when = function(ev, ctx) return ctx.features.len > 20 "
        "end }\n"
        "pipeline \"p\" { stages = { stage \"gate\" {\"allowlisted\"},\n"
        "  stage \"features\" {\"measure\"}, stage \"score\" {\"uses\", \"blocker\"} },\n"
        "  actions = { block = 100 } }\n");
    run_t r;
    const char *office[] = {"ip", "2001:db8::7", "email", "a@example.com", NULL};
    run(&r, p, "p", office);
    CU_ASSERT_STRING_EQUAL(r.d.action, "allow");
    CU_ASSERT_STRING_EQUAL(r.d.main.stop_rule, "allowlisted");
    CU_ASSERT_EQUAL(r.d.trace.len, 3); /* later stages never ran: explain says why */
    if (r.d.trace.len == 3) {
        const vd_trace_stage_t *later = &VD_VEC_AT(r.d.trace, vd_trace_stage_t, 1);
        CU_ASSERT_PTR_NULL(VD_VEC_AT(r.d.trace, vd_trace_stage_t, 0).skipped);
        CU_ASSERT_STRING_EQUAL(later->skipped,
                               "rule 'allowlisted' stopped the pipeline with 'allow'");
        CU_ASSERT_EQUAL(later->rules.len, 1);
    }
    done(&r);
    const char *user[] = {"ip", "203.0.113.9", "email", "Bob@Example.COM", NULL};
    run(&r, p, "p", user);
    CU_ASSERT_STRING_EQUAL(r.d.action, "allow");
    CU_ASSERT_DOUBLE_EQUAL(r.d.main.score, 15.0, 1e-12);
    CU_ASSERT_STRING_EQUAL(reason(&r.d.main, 0)->detail, "example.com");
    CU_ASSERT_EQUAL(r.d.features.len, 4);
    CU_ASSERT_STRING_EQUAL(VD_VEC_AT(r.d.main.tags, const char *, 0), "measured");
    done(&r);
    const char *longmail[] = {"ip", "1.2.3.4", "email", "someone.long@example.com", NULL};
    run(&r, p, "p", longmail);
    CU_ASSERT_STRING_EQUAL(r.d.action, "block");
    CU_ASSERT_STRING_EQUAL(r.d.main.stop_rule, "blocker");
    done(&r);
    vd_policy_unref(p);
}

static void test_rules_as_features(void) {
    vd_policy_t *p = vd_test_policy(
        "rule \"a\" { score = 2.5, when = function() return true end }\n"
        "rule \"b\" { score = 1, when = function() return false end }\n"
        "rule \"c\" { score = 1, when = function(ev, ctx) return ctx.features['rule.a'] == 2.5 end "
        "}\n"
        "pipeline \"p\" { stages = { stage \"s\" {\"a\", \"b\", as_features = true},\n"
        "  stage \"t\" {\"c\"} } }\n");
    run_t r;
    const char *none[] = {NULL};
    run(&r, p, "p", none);
    const vd_feature_t *f = vd_decision_feature(&r.d, "rule.a", 6, 0);
    CU_ASSERT_PTR_NOT_NULL_FATAL(f);
    CU_ASSERT_DOUBLE_EQUAL(f->value.u.n, 2.5, 1e-12);
    CU_ASSERT_PTR_NULL(vd_decision_feature(&r.d, "rule.b", 6, 0));
    CU_ASSERT_DOUBLE_EQUAL(r.d.main.score, 3.5, 1e-12); /* c saw the feature */
    done(&r);
    vd_policy_unref(p);
}

static void test_shadow(void) {
    vd_policy_t *p =
        vd_test_policy("rule \"real\" { score = 3, when = function() return true end }\n"
                       "rule \"trial\" { score = 9, tags = {'trial'}, when = function(ev, ctx)\n"
                       "  ctx:set('secret', 1); return true end }\n"
                       "rule \"after\" { score = 1, when = function(ev, ctx) return "
                       "ctx.features.secret == nil end }\n"
                       "pipeline \"p\" { stages = { stage \"a\" {\"real\"}, stage \"b\" "
                       "{\"trial\", shadow = true},\n"
                       "  stage \"c\" {\"after\"} }, actions = { challenge = 5, block = 12 } }\n");
    run_t r;
    const char *none[] = {NULL};
    run(&r, p, "p", none);
    CU_ASSERT_STRING_EQUAL(r.d.action, "allow");
    CU_ASSERT_DOUBLE_EQUAL(r.d.main.score, 4.0, 1e-12); /* shadow feature invisible to "after" */
    CU_ASSERT(r.d.has_shadow);
    CU_ASSERT_STRING_EQUAL(r.d.shadow_action, "block");
    CU_ASSERT_EQUAL(r.d.main.tags.len, 0);
    CU_ASSERT_EQUAL(r.d.shadow.tags.len, 1);
    done(&r);
    vd_policy_unref(p);
}

static void test_faults(void) {
    vd_policy_t *p = vd_test_policy(
        "rule \"broken\" { score = 50, when = function(ev) return ev.a.b.c end }\n"
        "rule \"fine\" { score = 1, when = function() return true end }\n"
        "rule \"badscore\" { score = function() return 'high' end, when = function() return true "
        "end }\n"
        "rule \"infinite\" { score = function() return math.huge end, when = function() return "
        "true end }\n"
        "rule \"minus\" { score = function() return -math.huge end, when = function() return "
        "true end }\n"
        "pipeline \"open\" { stages = { stage \"s\" {\"broken\", \"fine\", \"badscore\", "
        "\"infinite\", \"minus\"} } }\n"
        "pipeline \"closed\" { stages = { stage \"s\" {\"broken\", \"fine\", on_error = "
        "'challenge'} },\n"
        "  actions = { challenge = 10 } }\n");
    run_t r;
    const char *none[] = {NULL};
    run(&r, p, "open", none);
    CU_ASSERT_EQUAL(r.rc, 0);
    CU_ASSERT_STRING_EQUAL(r.d.action, "allow");
    CU_ASSERT_DOUBLE_EQUAL(r.d.main.score, 1.0, 1e-12);
    CU_ASSERT_EQUAL(r.d.faults.len, 4); /* infinities too: together they made the total NaN */
    CU_ASSERT_PTR_NOT_NULL(strstr(fault_msg(&r.d, 0), "main.lua:1:"));
    CU_ASSERT_PTR_NOT_NULL(strstr(fault_msg(&r.d, 1), "returned no number"));
    CU_ASSERT_PTR_NOT_NULL(strstr(fault_msg(&r.d, 2), "not finite"));
    CU_ASSERT_PTR_NOT_NULL(strstr(fault_msg(&r.d, 3), "not finite"));
    done(&r);
    run(&r, p, "closed", none);
    CU_ASSERT_STRING_EQUAL(r.d.action, "challenge");
    CU_ASSERT_DOUBLE_EQUAL(r.d.main.score, 0.0, 1e-12);
    done(&r);
    vd_policy_unref(p);
}

static void test_helpers(void) {
    vd_policy_t *p = vd_test_policy(
        "local re = verdict.re([[^(\\w+)-(\\d+)$]], 'i')\n"
        "local disposable = verdict.domains {'mailinator.com', '.Trash-Mail.com'}\n"
        "local words = verdict.set {'admin', 'root'}\n"
        "rule \"check\" { score = 1, when = function(ev)\n"
        "  assert(verdict.lower('AbC') == 'abc')\n"
        "  assert(verdict.trim('  x y \\n') == 'x y')\n"
        "  assert(verdict.email_domain(' <Bob@Mail.Example.COM> ') == 'mail.example.com')\n"
        "  assert(verdict.email_local('Bob.S+x@ex.com') == 'bob.s+x')\n"
        "  assert(verdict.email_domain('nobody') == nil and verdict.email_domain(nil) == nil)\n"
        "  local a, b = re:match('Agent-007'); assert(a == 'Agent' and b == '007')\n"
        "  assert(re:test('x-1') and not re:test('x-y') and not re:test(nil))\n"
        "  assert(disposable:has('inbox.MAILINATOR.com') and disposable:has('trash-mail.com'))\n"
        "  assert(not disposable:has('notmailinator.com') and not disposable:has(nil))\n"
        "  assert(words:has('root') and not words:has('Root') and #words == 2)\n"
        "  assert(verdict.ip_prefix('203.0.113.77', 24) == '203.0.113.0/24')\n"
        "  assert(verdict.ip_prefix('2001:db8::1', 48) == '2001:db8::/48')\n"
        "  assert(verdict.ip('::ffff:1.2.3.4') == '1.2.3.4' and verdict.ip('zz') == nil)\n"
        "  local ip, v = verdict.ip('10.0.0.1'); assert(ip == '10.0.0.1' and v == 4)\n"
        "  ip, v = verdict.ip('10.0.0.1'); assert(ip == '10.0.0.1' and v == 4)\n"
        "  assert(verdict.ip('2001:DB8::1') == '2001:db8::1' and verdict.ip('2001:DB8::1') == "
        "'2001:db8::1')\n"
        "  assert(verdict.ip('10.0.0.1 ') == nil and verdict.ip(7) == nil)\n"
        "  assert(verdict.lower('abc') == 'abc' and verdict.trim('x') == 'x')\n"
        "  assert(verdict.count('ab12c3', 'digit') == 3 and verdict.count('Ab', 'upper') == 1)\n"
        "  assert(verdict.entropy('aaaa') == 0 and verdict.entropy('abcd') == 2)\n"
        "  assert(verdict.header(ev, 'subject') == 'Hello')\n"
        "  assert(ev.headers['Subject'] == 'Hello' and ev.headers.subject == nil)\n"
        "  local n = 0; for k, v in pairs(ev) do n = n + 1 end; assert(n == 2 and #ev == 2)\n"
        "  assert(('abc'):find('b') == 2 and ('a.c'):find('.', 1) == 2)\n"
        "  return true end }\n"
        "pipeline \"p\" { stages = { stage \"s\" {\"check\"} } }\n");
    /* headers is a nested map: build it by hand */
    msgpack_sbuffer sb;
    msgpack_packer pk;
    msgpack_sbuffer_init(&sb);
    msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
    msgpack_pack_map(&pk, 2);
    msgpack_pack_str_with_body(&pk, "headers", 7);
    msgpack_pack_map(&pk, 1);
    msgpack_pack_str_with_body(&pk, "Subject", 7);
    msgpack_pack_str_with_body(&pk, "Hello", 5);
    msgpack_pack_str_with_body(&pk, "body", 4);
    msgpack_pack_str_with_body(&pk, "hi", 2);
    msgpack_unpacked up;
    msgpack_unpacked_init(&up);
    msgpack_unpack_next(&up, sb.data, sb.size, NULL);
    vd_arena_t arena;
    vd_arena_init(&arena);
    vd_decision_t d;
    vd_decision_init(&d, &arena, 0);
    vd_run_state_t rs = {0};
    CU_ASSERT_EQUAL(vd_pipeline_run(p, vd_policy_pipeline(p, "p", 1), &up.data, &d, 0, &rs), 0);
    if (d.faults.len) fprintf(stderr, "\n  fault: %s\n", fault_msg(&d, 0));
    CU_ASSERT_EQUAL(d.faults.len, 0);
    CU_ASSERT_EQUAL(d.main.reasons.len, 1);
    vd_arena_close(&arena);
    msgpack_unpacked_destroy(&up);
    msgpack_sbuffer_destroy(&sb);
    vd_policy_unref(p);
}

static void test_deadline(void) {
    vd_policy_t *p = vd_test_policy(
        "rule \"slow\" { score = 1, when = function() local x = 0; for i = 1, 150000 do x = x + i "
        "end; return true end }\n"
        "pipeline \"p\" { stages = { stage \"s\" {\"slow\", \"slow\", \"slow\", \"slow\"} } }\n");
    vd_test_event_t ev;
    const char *none[] = {NULL};
    vd_arena_t arena;
    vd_arena_init(&arena);
    vd_decision_t d;
    vd_decision_init(&d, &arena, 0);
    int64_t past = vd_now_ns() - 1;
    vd_run_state_t rs = {0};
    CU_ASSERT_EQUAL(
        vd_pipeline_run(p, vd_policy_pipeline(p, "p", 1), vd_test_event(&ev, none), &d, past, &rs),
        VD_ETIMEOUT);
    vd_test_event_free(&ev);
    vd_arena_close(&arena);
    vd_policy_unref(p);
}

void vd_suite_rules(void) {
    static const vd_test_t tests[] = {
        {"thresholds, reasons, details, tags", test_thresholds_and_reasons},
        {"details formatted only when rules fire", test_detail_formats},
        {"details formatted as string.format does", test_format_like_string_format},
        {"verdict.when conditions", test_when_conditions},
        {"a verdict.when condition that fails", test_when_condition_fault},
        {"stop actions and features between stages", test_stop_and_features},
        {"shadow stages", test_shadow},
        {"fired rules as features", test_rules_as_features},
        {"rule faults: open and closed", test_faults},
        {"helpers and the event view", test_helpers},
        {"deadline between rules", test_deadline},
        {NULL, NULL}};
    vd_add_suite("rules", tests);
}
