/* Campaigns: the text sketch (near duplicates agree, different texts do not, the same text
 * always gives the same sketch) and the index (joining, windows, expiry, the memory cap and
 * its evictions, lockstep keys, two threads at once). */
#include "base/error.h"
#include "state/campaign.h"
#include "state/campaign_count.h"
#include "state/campaign_key.h"
#include "state/campaign_op.h"
#include "state/redis_campaign.h"
#include "state/sketch.h"
#include "vd_test.h"

#include "lua/state.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define T0 1767225600 /* some Unix time */

static const char *const vocabulary[] = {
    "account", "offer",  "today",   "price",  "service", "update",  "please", "order",
    "deliver", "team",   "meeting", "report", "project", "weekend", "family", "garden",
    "travel",  "ticket", "hotel",   "dinner", "invoice", "payment", "credit", "bonus",
    "market",  "share",  "review",  "friend", "photo",   "music",   "school", "health"};

/* A text of n words drawn from the vocabulary by a small generator seeded with seed. */
static void random_text(char *out, size_t cap, int n, uint32_t seed) {
    size_t at = 0;
    for (int i = 0; i < n && at + 16 < cap; i++) {
        seed = seed * 1664525u + 1013904223u;
        at += (size_t)snprintf(out + at, cap - at, "%s ", vocabulary[(seed >> 16) % 32]);
    }
}

/* One copy of a templated spam: the name, the amount and the tracking link change. */
static void spam_copy(char *out, size_t cap, int i) {
    static const char *const names[] = {"Alice", "Bob", "Carol", "Dave", "Erin", "Frank"};
    snprintf(out, cap,
             "<html><body><p>Dear %s,</p><p>Your account has been selected for a special "
             "reward of $%d.%02d. To claim your reward before it expires, confirm your details "
             "at <a href=\"https://claim.example.net/r/%x\">https://claim.example.net/r/%x</a> "
             "within 48 hours. This offer is valid for verified members only and cannot be "
             "transferred. Thank you for being a loyal customer of our rewards programme.</p>"
             "<p>Customer Care Team, reference %d</p></body></html>",
             names[i % 6], 100 + i * 7, i % 100, 0x1000 + i * 31, 0x1000 + i * 31, 900000 + i);
}

static void test_sketch_near_duplicates(void) {
    char a[2048], b[2048];
    vd_sketch_t sa, sb;
    spam_copy(a, sizeof a, 1);
    CU_ASSERT_FATAL(vd_sketch_text(a, strlen(a), &sa) == 0);
    for (int i = 2; i < 40; i++) {
        spam_copy(b, sizeof b, i);
        CU_ASSERT_FATAL(vd_sketch_text(b, strlen(b), &sb) == 0);
        CU_ASSERT(vd_sketch_agree(&sa, &sb) > VD_SKETCH_HASHES / 2);
    }
    /* A copy with one sentence rewritten still matches. */
    char *edit = strstr(b, "This offer");
    memcpy(edit, "That deal ", 10);
    CU_ASSERT(vd_sketch_text(b, strlen(b), &sb) == 0);
    CU_ASSERT(vd_sketch_agree(&sa, &sb) > VD_SKETCH_HASHES / 2);
}

static void test_sketch_different_texts(void) {
    char a[4096], b[4096];
    vd_sketch_t sa, sb;
    int worst = 0;
    for (uint32_t i = 0; i < 50; i++) {
        random_text(a, sizeof a, 300, i * 2 + 1);
        random_text(b, sizeof b, 300, i * 2 + 2);
        CU_ASSERT_FATAL(vd_sketch_text(a, strlen(a), &sa) == 0);
        CU_ASSERT_FATAL(vd_sketch_text(b, strlen(b), &sb) == 0);
        int agree = vd_sketch_agree(&sa, &sb);
        if (agree > worst) worst = agree;
    }
    CU_ASSERT(worst <= VD_SKETCH_HASHES / 4); /* same words, other texts: far from a match */
    spam_copy(a, sizeof a, 3);
    random_text(b, sizeof b, 80, 99);
    vd_sketch_text(a, strlen(a), &sa);
    vd_sketch_text(b, strlen(b), &sb);
    CU_ASSERT(vd_sketch_agree(&sa, &sb) <= 2);
}

static void test_sketch_deterministic_and_normalised(void) {
    const char *html = "<p>Hello <b>THERE</b> friend, your parcel 12345 is waiting at "
                       "<a href=\"x\">https://Track.Example.com/p/abc?id=9</a>&nbsp;now.</p>"
                       "<style>p { color: red }</style>";
    const char *plain = "hello there friend your parcel 777 is waiting at "
                        "http://track.example.com/other now";
    vd_sketch_t a, b, c;
    CU_ASSERT_FATAL(vd_sketch_text(html, strlen(html), &a) == 0);
    CU_ASSERT_FATAL(vd_sketch_text(html, strlen(html), &b) == 0);
    CU_ASSERT(memcmp(&a, &b, sizeof a) == 0);
    CU_ASSERT(vd_sketch_digest(&a) == vd_sketch_digest(&b));
    CU_ASSERT_FATAL(vd_sketch_text(plain, strlen(plain), &c) == 0);
    CU_ASSERT_EQUAL(vd_sketch_agree(&a, &c), VD_SKETCH_HASHES); /* the same words, normalised */
    CU_ASSERT_EQUAL(vd_sketch_text("too short to tell", 17, &a), VD_EINVAL);
    CU_ASSERT_EQUAL(vd_sketch_text("", 0, &a), VD_EINVAL);
    char bytes[512]; /* any bytes: no crash, a sketch or too short */
    for (int i = 0; i < (int)sizeof bytes; i++)
        bytes[i] = (char)(i * 37 + 11);
    int rc = vd_sketch_text(bytes, sizeof bytes, &a);
    CU_ASSERT(rc == 0 || rc == VD_EINVAL);
}

static int text_item(vd_campaigns_t *c, int i, const char *source, int64_t now,
                     vd_campaign_view_t *v) {
    char text[2048];
    vd_sketch_t sk;
    spam_copy(text, sizeof text, i);
    CU_ASSERT_FATAL(vd_sketch_text(text, strlen(text), &sk) == 0);
    vd_campaign_opts_t o = {.source = source, .source_len = source ? strlen(source) : 0};
    return vd_campaign_text(c, &sk, &o, now, v);
}

static void test_text_wave_joins_one_campaign(void) {
    vd_campaigns_t *c = vd_campaigns_new(1 << 20);
    vd_campaign_view_t v, first;
    char src[32];
    CU_ASSERT_FATAL(text_item(c, 0, "s0", T0, &first) == 0);
    CU_ASSERT(first.created);
    CU_ASSERT_EQUAL(first.size, 1);
    for (int i = 1; i < 30; i++) {
        snprintf(src, sizeof src, "sender%d", i % 10);
        CU_ASSERT_FATAL(text_item(c, i, src, T0 + i * 60, &v) == 0);
        CU_ASSERT(!v.created);
        CU_ASSERT_EQUAL(v.id, first.id);
    }
    CU_ASSERT_EQUAL(v.size, 30);
    CU_ASSERT_EQUAL(v.growth_1h, 30);
    CU_ASSERT_EQUAL(v.first_seen, T0);
    CU_ASSERT_EQUAL(v.last_seen, T0 + 29 * 60);
    CU_ASSERT(v.sources >= 10 && v.sources <= 12); /* s0 and sender0..9 */
    CU_ASSERT(v.bad == 0 && v.good == 0 && v.reporters == 0);
    /* Another text starts its own campaign; a look finds without counting. */
    char other[4096];
    vd_sketch_t sk;
    random_text(other, sizeof other, 200, 7);
    vd_sketch_text(other, strlen(other), &sk);
    vd_campaign_opts_t look = {.look_only = 1};
    CU_ASSERT_EQUAL(vd_campaign_text(c, &sk, &look, T0 + 3600, &v), VD_ENOTFOUND);
    vd_campaign_opts_t add = {0};
    CU_ASSERT(vd_campaign_text(c, &sk, &add, T0 + 3600, &v) == 0 && v.created);
    CU_ASSERT(v.id != first.id);
    /* Scopes keep campaigns apart. */
    vd_campaign_opts_t scoped = {.scope = "comments", .scope_len = 8};
    CU_ASSERT(vd_campaign_text(c, &sk, &scoped, T0 + 3600, &v) == 0 && v.created);
    vd_campaign_stats_t st[VD_CAMPAIGN_KINDS];
    vd_campaigns_stats(c, st);
    CU_ASSERT_EQUAL(st[VD_CAMPAIGN_TEXT].entries, 3);
    CU_ASSERT_EQUAL(st[VD_CAMPAIGN_TEXT].created, 3);
    CU_ASSERT_EQUAL(st[VD_CAMPAIGN_TEXT].matches, 29);
    vd_campaigns_free(c);
}

static void test_reports_add_up(void) {
    vd_campaigns_t *c = vd_campaigns_new(1 << 20);
    vd_campaign_view_t v, r;
    text_item(c, 1, NULL, T0, &v);
    char who[16];
    for (int i = 0; i < 10; i++) {
        snprintf(who, sizeof who, "user%d", i % 5);
        CU_ASSERT(vd_campaign_report(c, VD_CAMPAIGN_TEXT, v.id, 1, 1.0, who, strlen(who), T0 + 60,
                                     &r) == 0);
    }
    CU_ASSERT(vd_campaign_report(c, VD_CAMPAIGN_TEXT, v.id, 0, 0.5, NULL, 0, T0 + 60, &r) == 0);
    CU_ASSERT_DOUBLE_EQUAL(r.bad, 10.0, 1e-9);
    CU_ASSERT_DOUBLE_EQUAL(r.good, 0.5, 1e-9);
    CU_ASSERT(r.reporters >= 4 && r.reporters <= 6);
    CU_ASSERT_EQUAL(r.size, 1);          /* a report is not an item */
    text_item(c, 2, NULL, T0 + 120, &v); /* the next copy sees the reports */
    CU_ASSERT_DOUBLE_EQUAL(v.bad, 10.0, 1e-9);
    CU_ASSERT_EQUAL(v.size, 2);
    CU_ASSERT_EQUAL(vd_campaign_report(c, VD_CAMPAIGN_FIELDS, v.id, 1, 1, NULL, 0, T0, &r),
                    VD_ENOTFOUND);
    CU_ASSERT_EQUAL(vd_campaign_report(c, VD_CAMPAIGN_TEXT, v.id, 1, -1, NULL, 0, T0, &r),
                    VD_EINVAL);
    vd_campaigns_free(c);
}

static void test_decay_and_expiry(void) {
    vd_campaigns_t *c = vd_campaigns_new(1 << 20);
    vd_campaign_view_t v;
    for (int i = 0; i < 10; i++)
        text_item(c, i, NULL, T0 + i, &v);
    CU_ASSERT_EQUAL(v.growth_1h, 10);
    text_item(c, 11, NULL, T0 + 2 * 3600, &v); /* two hours on: the hour holds only this one */
    CU_ASSERT_EQUAL(v.growth_1h, 1);
    CU_ASSERT_EQUAL(v.recent, 11); /* the day's window still holds all */
    CU_ASSERT_EQUAL(v.size, 11);
    /* Idle past its ttl (a week): it expired, a copy starts a new one. */
    text_item(c, 12, NULL, T0 + 2 * 3600 + VD_CAMPAIGN_TEXT_TTL, &v);
    CU_ASSERT(v.created);
    CU_ASSERT_EQUAL(v.size, 1);
    vd_campaign_stats_t st[VD_CAMPAIGN_KINDS];
    vd_campaigns_stats(c, st);
    CU_ASSERT_EQUAL(st[VD_CAMPAIGN_TEXT].expired, 1);
    CU_ASSERT_EQUAL(st[VD_CAMPAIGN_TEXT].entries, 1);
    vd_campaigns_free(c);
}

/* Copy `copy` of a 300-word template: each word replaced by another with probability pct%. */
static void personalised(char *out, size_t cap, int pct, uint32_t copy) {
    uint32_t t = 4242, r = copy * 2654435761u + 1;
    size_t at = 0;
    for (int i = 0; i < 300 && at + 24 < cap; i++) {
        t = t * 1664525u + 1013904223u;
        r = r * 1664525u + 1013904223u;
        uint32_t w = (r >> 8) % 100 < (uint32_t)pct ? r >> 16 : t >> 16;
        at += (size_t)snprintf(out + at, cap - at, "%s%u ", vocabulary[w % 32], (w >> 5) % 50);
    }
}

/* Personalised copies (one word in twenty changed: about 0.58 of their word triples in
 * common with the first copy, near the match threshold) still gather in one campaign:
 * members' bands lead them there when they share no band with the first copy. */
static void test_personalised_copies_recall(void) {
    vd_campaigns_t *c = vd_campaigns_new(1 << 22);
    char text[8192];
    vd_sketch_t sk;
    vd_campaign_view_t v, first;
    vd_campaign_opts_t o = {0};
    personalised(text, sizeof text, 5, 0);
    CU_ASSERT_FATAL(vd_sketch_text(text, strlen(text), &sk) == 0);
    CU_ASSERT_FATAL(vd_campaign_text(c, &sk, &o, T0, &first) == 0);
    int joined = 0;
    for (uint32_t i = 1; i <= 200; i++) {
        personalised(text, sizeof text, 5, i);
        vd_sketch_text(text, strlen(text), &sk);
        CU_ASSERT_FATAL(vd_campaign_text(c, &sk, &o, T0 + i, &v) == 0);
        joined += v.id == first.id;
    }
    /* 141 here; without members' bands 21 (the copies a first miss split off drew the rest),
     * with one member 124. The rest agree on 16 values or fewer with the first copy. */
    CU_ASSERT(joined >= 130);
    vd_campaigns_free(c);
}

static uint64_t fields_key(const char *shape, const char *domain, const char *ua) {
    vd_campaign_kv_t f[3] = {{"ua", ua, 2, strlen(ua)},
                             {"shape", shape, 5, strlen(shape)},
                             {"domain", domain, 6, strlen(domain)}};
    uint64_t key = 0;
    CU_ASSERT(vd_campaign_fields_key(f, 3, &key) == 0);
    return key;
}

static void test_fields_lockstep(void) {
    vd_campaign_kv_t a[2] = {{"x", "1", 1, 1}, {"y", "2", 1, 1}};
    vd_campaign_kv_t b[2] = {{"y", "2", 1, 1}, {"x", "1", 1, 1}};
    vd_campaign_kv_t dup[2] = {{"x", "1", 1, 1}, {"x", "2", 1, 1}};
    uint64_t ka = 0, kb = 1, kd = 0;
    CU_ASSERT(vd_campaign_fields_key(a, 2, &ka) == 0 && vd_campaign_fields_key(b, 2, &kb) == 0);
    CU_ASSERT_EQUAL(ka, kb); /* order does not matter */
    CU_ASSERT_EQUAL(vd_campaign_fields_key(dup, 2, &kd), VD_EINVAL);
    CU_ASSERT_EQUAL(vd_campaign_fields_key(a, 0, &kd), VD_EINVAL);

    vd_campaigns_t *c = vd_campaigns_new(1 << 20);
    uint64_t bot = fields_key("a.a9", "gmail.com", "Chrome/120");
    vd_campaign_view_t v;
    char net[32];
    for (int i = 0; i < 37; i++) { /* 37 signups in 20 minutes from 31 networks */
        snprintf(net, sizeof net, "198.51.%d.0/24", i % 31);
        vd_campaign_opts_t o = {.source = net, .source_len = strlen(net)};
        CU_ASSERT_FATAL(vd_campaign_fields(c, bot, &o, T0 + i * 30, &v) == 0);
    }
    CU_ASSERT_EQUAL(v.recent, 37);
    CU_ASSERT(v.sources >= 29 && v.sources <= 33);
    CU_ASSERT_EQUAL(v.window, VD_CAMPAIGN_FIELDS_WINDOW);
    /* Another shape, another group; another window, another group. */
    vd_campaign_opts_t one = {0}, longer = {.window = 86400};
    CU_ASSERT(vd_campaign_fields(c, fields_key("a9", "gmail.com", "Chrome/120"), &one, T0, &v) ==
                  0 &&
              v.created);
    CU_ASSERT(vd_campaign_fields(c, bot, &longer, T0, &v) == 0 && v.created);
    /* Two hours later the window is empty; sources too. */
    vd_campaign_opts_t look = {.look_only = 1};
    CU_ASSERT(vd_campaign_fields(c, bot, &look, T0 + 2 * 3600 - 1, &v) == 0);
    CU_ASSERT_EQUAL(v.recent, 0);
    CU_ASSERT_EQUAL(v.sources, 0);
    CU_ASSERT_EQUAL(v.size, 37);
    vd_campaign_opts_t bad = {.window = 5};
    CU_ASSERT_EQUAL(vd_campaign_fields(c, bot, &bad, T0, &v), VD_EINVAL);
    vd_campaigns_free(c);
}

static void test_cap_evicts_cold(void) {
    const size_t cap = 256 << 10;
    vd_campaigns_t *c = vd_campaigns_new(cap);
    vd_campaign_view_t v, hot;
    vd_campaign_opts_t o = {0};
    CU_ASSERT(vd_campaign_fields(c, 1, &o, T0, &hot) == 0);
    for (uint64_t i = 2; i < 20000; i++) {
        CU_ASSERT_FATAL(vd_campaign_fields(c, i, &o, T0, &v) == 0);
        if (i % 64 == 0) vd_campaign_fields(c, 1, &o, T0, &v); /* kept in use */
    }
    char text[4096];
    vd_sketch_t sk;
    for (uint32_t i = 0; i < 2000; i++) {
        random_text(text, sizeof text, 40, i + 1000);
        vd_sketch_text(text, strlen(text), &sk);
        CU_ASSERT_FATAL(vd_campaign_text(c, &sk, &o, T0, &v) == 0);
        if (i % 16 == 0) vd_campaign_fields(c, 1, &o, T0, &v);
    }
    vd_campaign_stats_t st[VD_CAMPAIGN_KINDS];
    vd_campaigns_stats(c, st);
    uint64_t bytes = st[0].bytes + st[1].bytes;
    CU_ASSERT(bytes <= cap);
    CU_ASSERT(bytes >= cap / 2);
    CU_ASSERT(st[VD_CAMPAIGN_FIELDS].evictions > 10000);
    CU_ASSERT(st[VD_CAMPAIGN_TEXT].evictions > 0);
    vd_campaign_opts_t look = {.look_only = 1};
    CU_ASSERT(vd_campaign_fields(c, 1, &look, T0, &v) == 0); /* the hot one survived */
    CU_ASSERT_EQUAL(v.id, hot.id);
    vd_campaigns_clear(c);
    vd_campaigns_stats(c, st);
    CU_ASSERT_EQUAL(st[0].entries + st[1].entries, 0);
    CU_ASSERT_EQUAL(st[0].bytes + st[1].bytes, 0);
    vd_campaigns_free(c);
}

typedef struct worker_arg {
    vd_campaigns_t *c;
    int id;
} worker_arg_t;

static void *count_items(void *p) {
    worker_arg_t *a = p;
    vd_campaign_view_t v;
    vd_campaign_opts_t o = {0};
    for (int i = 0; i < 5000; i++) {
        vd_campaign_fields(a->c, 42, &o, T0, &v);
        vd_campaign_fields(a->c, 1000 + (uint64_t)(i % 500) + (uint64_t)a->id * 1000, &o, T0, &v);
        text_item(a->c, i, NULL, T0, &v);
    }
    return NULL;
}

static void test_two_threads(void) {
    vd_campaigns_t *c = vd_campaigns_new(4 << 20);
    pthread_t t[2];
    worker_arg_t args[2] = {{c, 0}, {c, 1}};
    for (int i = 0; i < 2; i++)
        pthread_create(&t[i], NULL, count_items, &args[i]);
    for (int i = 0; i < 2; i++)
        pthread_join(t[i], NULL);
    vd_campaign_view_t v;
    vd_campaign_opts_t look = {.look_only = 1};
    CU_ASSERT(vd_campaign_fields(c, 42, &look, T0, &v) == 0);
    CU_ASSERT_EQUAL(v.size, 10000); /* no addition lost */
    CU_ASSERT(text_item(c, 1, NULL, T0, &v) == 0);
    CU_ASSERT(v.size >= 5000); /* at most one race-made twin shares the wave */
    vd_campaign_stats_t st[VD_CAMPAIGN_KINDS];
    vd_campaigns_stats(c, st);
    CU_ASSERT_EQUAL(st[VD_CAMPAIGN_FIELDS].entries, 1001);
    CU_ASSERT(st[VD_CAMPAIGN_TEXT].entries <= 2);
    vd_campaigns_free(c);
}

static const char lua_policy[] =
    "rule \"text\" { score = 0, when = function(ev, ctx)\n"
    "  local c = verdict.campaign('text', ev.body, { source = ev.from })\n"
    "  ctx:set('size', c and c.size or -1); ctx:set('kind', c and c.kind or 'none')\n"
    "  ctx:set('new', c ~= nil and c.new); return false end }\n"
    "rule \"fields\" { score = 0, when = function(ev, ctx)\n"
    "  local g = verdict.campaign('fields', { a = ev.from, n = 3, b = true }, { window = 600 })\n"
    "  ctx:set('recent', g.recent); ctx:set('window', g.window)\n"
    "  ctx:set('looked', verdict.campaign('fields', { a = 'never' }, { look = true }) == nil)\n"
    "  ctx:set('shape', verdict.shape(ev.name)); return false end }\n"
    "rule \"bad_window\" { score = 1, when = function(ev)\n"
    "  return verdict.campaign('fields', { a = 1 }, { window = 5 }) end }\n"
    "rule \"bad_kind\" { score = 1, when = function(ev) return verdict.campaign('x', 'y') end }\n"
    "rule \"no_fields\" { score = 1, when = function(ev) return verdict.campaign('fields', {}) end "
    "}\n"
    "rule \"write\" { score = 1, when = function(ev)\n"
    "  local c = verdict.campaign('fields', { a = 'w' }); assert(c.nope == nil); c.size = 0 end }\n"
    "pipeline \"p\" { stages = { stage \"s\" { \"text\", \"fields\", \"bad_window\", "
    "\"bad_kind\",\n"
    "  \"no_fields\", \"write\" } }, actions = { block = 1 } }\n";

static int64_t feature_int(const vd_decision_t *d, const char *name) {
    const vd_feature_t *f = vd_decision_feature(d, name, strlen(name), 0);
    return f && f->value.type == VD_VAL_INT ? f->value.u.i : -100;
}

static const char *feature_str(const vd_decision_t *d, const char *name, char *buf) {
    const vd_feature_t *f = vd_decision_feature(d, name, strlen(name), 0);
    if (!f || f->value.type != VD_VAL_STR) return "";
    snprintf(buf, 64, "%.*s", (int)f->value.u.s.len, f->value.u.s.ptr);
    return buf;
}

static void test_lua_api(void) {
    vd_campaigns_t *c = vd_campaigns_new(1 << 20);
    vd_lua_limits_t lim = {.mem_limit = 32u << 20,
                           .call_mem_limit = 8u << 20,
                           .instr_limit = 200000,
                           .regex_limit = 100000,
                           .campaigns = c};
    const char *files[] = {"p.lua", lua_policy, NULL};
    vd_policy_t *p = NULL;
    char err[512], buf[64], body[2048];
    CU_ASSERT_FATAL(vd_test_load_with(files, &lim, &p, err, sizeof err) == 0);
    for (int i = 0; i < 3; i++) {
        spam_copy(body, sizeof body, i);
        const char *kv[] = {"body", body, "from", "x@y.example", "name", "emma_wilson1987", NULL};
        vd_test_run_t r;
        vd_test_run(&r, p, "p", kv);
        CU_ASSERT_EQUAL(r.rc, 0);
        CU_ASSERT_EQUAL(feature_int(&r.d, "size"), i + 1);
        CU_ASSERT_EQUAL(feature_int(&r.d, "recent"), i + 1);
        CU_ASSERT_EQUAL(feature_int(&r.d, "window"), 600);
        CU_ASSERT_STRING_EQUAL(feature_str(&r.d, "kind", buf), "text");
        CU_ASSERT_STRING_EQUAL(feature_str(&r.d, "shape", buf), "a_a9999");
        const vd_feature_t *looked = vd_decision_feature(&r.d, "looked", 6, 0);
        CU_ASSERT(looked && looked->value.type == VD_VAL_BOOL && looked->value.u.b);
        CU_ASSERT_EQUAL(r.d.faults.len, 4); /* the bad calls fail their rules, nothing else */
        CU_ASSERT(strstr(VD_VEC_AT(r.d.faults, vd_fault_t, 3).message, "read-only") != NULL);
        CU_ASSERT_STRING_EQUAL(r.d.action, "allow");
        vd_test_run_free(&r);
    }
    const char *short_text[] = {"body", "ok thanks", "name", "Ben.Schulz 12345678", NULL};
    vd_test_run_t r;
    vd_test_run(&r, p, "p", short_text);
    CU_ASSERT_EQUAL(feature_int(&r.d, "size"), -1); /* too short: nil */
    CU_ASSERT_STRING_EQUAL(feature_str(&r.d, "shape", buf), "Aa.Aa 999999");
    vd_test_run_free(&r);
    vd_campaign_stats_t st[VD_CAMPAIGN_KINDS];
    vd_campaigns_stats(c, st);
    CU_ASSERT_EQUAL(st[VD_CAMPAIGN_TEXT].too_short, 1);
    CU_ASSERT_EQUAL(st[VD_CAMPAIGN_TEXT].entries, 1);
    vd_policy_unref(p);
    vd_campaigns_free(c);
}

/* Items that come out of order (another daemon's clock, a call sent after a wait) never
 * clear what the windows hold: an older one counts in its own bucket or generation while that
 * is kept, and reads the window as of the newest. */
static void test_out_of_order_items_keep_counts(void) {
    vd_campaign_ring_t ring = {0};
    vd_campaign_hll_t hll = {0};
    int64_t width = 100, half = 300, t = T0 - T0 % 600;
    for (int i = 0; i < 20; i++) {
        vd_campaign_ring_add(&ring, width, 1, t + i);
        vd_campaign_hll_add(&hll, half, 0x9e3779b97f4a7c15ULL * (uint64_t)(i + 1), t + i);
    }
    vd_campaign_ring_add(&ring, width, 1, t + half); /* the next half window */
    vd_campaign_hll_add(&hll, half, 0x1234567ULL, t + half);
    CU_ASSERT_EQUAL(vd_campaign_ring_add(&ring, width, 1, t + 5), 22); /* a second late */
    vd_campaign_hll_add(&hll, half, 0x9e3779b97f4a7c15ULL * 99, t + 5);
    uint64_t n = vd_campaign_hll_count(&hll, half, t + 5);
    CU_ASSERT(n >= 20 && n <= 24);
    CU_ASSERT_EQUAL(vd_campaign_hll_count(&hll, half, t + half), n);
    /* Older than the window: left out, and nothing cleared. */
    CU_ASSERT_EQUAL(vd_campaign_ring_add(&ring, width, 1, t - 5000), 22);
    vd_campaign_hll_add(&hll, half, 0x777ULL, t - 5000);
    CU_ASSERT_EQUAL(vd_campaign_hll_count(&hll, half, t + half), n);
}

/* An operation Redis did not answer is answered by the embedded index (the fallback), with
 * its scope, source and options; fail-open answers nothing. */
static void test_op_falls_back_to_the_index(void) {
    vd_campaigns_t *c = vd_campaigns_new(1 << 20);
    vd_campaign_opts_t o = {.scope = "s", .scope_len = 1, .source = "a", .source_len = 1};
    vd_campaign_ask_t ask = {.what = VD_CAMPAIGN_ASK_FIELDS, .key = 42};
    for (int i = 0; i < 3; i++) {
        vd_state_op_t *op = vd_campaign_op_new(&ask, &o, NULL, 0);
        CU_ASSERT_FATAL(op != NULL);
        op->now = T0 + i;
        op->failed = 1;
        vd_campaign_op_resolve(op, c, i == 2);
        const vd_campaign_ask_t *a = vd_campaign_op_ask(op);
        if (i < 2) {
            CU_ASSERT_EQUAL(a->rc, 0);
            CU_ASSERT_EQUAL(a->view.size, (uint64_t)i + 1);
        } else {
            CU_ASSERT_EQUAL(a->rc, VD_ENOTFOUND); /* fail open */
        }
        free(op);
    }
    vd_campaign_view_t v; /* the same group as a rule asking the index */
    CU_ASSERT_EQUAL(vd_campaign_fields(c, 42, &o, T0 + 5, &v), 0);
    CU_ASSERT_EQUAL(v.size, 3);
    vd_campaign_ask_t rep = {.what = VD_CAMPAIGN_ASK_REPORT,
                             .kind = VD_CAMPAIGN_FIELDS,
                             .key = v.id,
                             .bad = 1,
                             .weight = 2};
    vd_state_op_t *op = vd_campaign_op_new(&rep, NULL, "bob", 3);
    op->now = T0 + 6;
    op->failed = 1;
    vd_campaign_op_resolve(op, c, 0);
    CU_ASSERT_EQUAL(vd_campaign_op_ask(op)->rc, 0);
    CU_ASSERT_DOUBLE_EQUAL(vd_campaign_op_ask(op)->view.bad, 2.0, 1e-9);
    CU_ASSERT_EQUAL(vd_campaign_op_ask(op)->view.reporters, 1);
    free(op);
    vd_campaigns_free(c);
}

static redisReply *reply_str(const void *bytes, size_t len) {
    redisReply *r = calloc(1, sizeof *r);
    r->type = REDIS_REPLY_STRING;
    r->str = (char *)bytes;
    r->len = len;
    return r;
}

/* What Redis answers is read defensively: refs round-trip, anything else under their key is
 * none, and a script reply of the wrong shape is an error (the fallback answers). */
static void test_redis_replies_are_checked(void) {
    vd_campaign_refs_t refs = {.pipeline = 77,
                               .n = 2,
                               .ids = {5, 0xfedcba9876543210u},
                               .kinds = {VD_CAMPAIGN_TEXT, VD_CAMPAIGN_FIELDS}};
    unsigned char bytes[VD_REDIS_REFS_BYTES];
    size_t len = vd_redis_refs_encode(&refs, bytes);
    CU_ASSERT_EQUAL(len, 8 + 2 * 9);
    vd_campaign_ask_t ask = {.what = VD_CAMPAIGN_ASK_REFS};
    vd_state_op_t *op = vd_campaign_op_new(&ask, NULL, "01ID", 4);
    redisReply *r = reply_str(bytes, len);
    CU_ASSERT_EQUAL(vd_redis_campaign_read(op, r), 0);
    vd_campaign_ask_t *a = vd_campaign_op_ask(op);
    CU_ASSERT_EQUAL(a->rc, 0);
    CU_ASSERT_EQUAL(a->refs.n, 2);
    CU_ASSERT_EQUAL(a->refs.pipeline, 77);
    CU_ASSERT_EQUAL(a->refs.ids[1], 0xfedcba9876543210u);
    CU_ASSERT_EQUAL(a->refs.kinds[1], VD_CAMPAIGN_FIELDS);
    r->len = len - 1; /* torn */
    CU_ASSERT_EQUAL(vd_redis_campaign_read(op, r), 0);
    CU_ASSERT_EQUAL(a->rc, VD_ENOTFOUND);
    bytes[8] = 9; /* a kind out of range */
    r->len = len;
    CU_ASSERT_EQUAL(vd_redis_campaign_read(op, r), 0);
    CU_ASSERT_EQUAL(a->rc, VD_ENOTFOUND);
    r->type = REDIS_REPLY_INTEGER;
    CU_ASSERT_EQUAL(vd_redis_campaign_read(op, r), -1);
    free(op);
    vd_campaign_ask_t text = {.what = VD_CAMPAIGN_ASK_TEXT};
    op = vd_campaign_op_new(&text, &(vd_campaign_opts_t){0}, NULL, 0);
    redisReply *items[2] = {reply_str("1", 1), reply_str("ab", 2)};
    redisReply arr = {.type = REDIS_REPLY_ARRAY, .elements = 2, .element = items};
    CU_ASSERT_EQUAL(vd_redis_campaign_read(op, &arr), -1); /* found, but no fields */
    items[0]->str = "0";
    CU_ASSERT_EQUAL(vd_redis_campaign_read(op, &arr), 0); /* none near */
    CU_ASSERT_EQUAL(vd_campaign_op_ask(op)->rc, VD_ENOTFOUND);
    free(items[0]);
    free(items[1]);
    free(r);
    free(op);
}

void vd_suite_campaign(void) {
    static const vd_test_t tests[] = {
        {"near duplicates agree on most hashes", test_sketch_near_duplicates},
        {"different texts do not", test_sketch_different_texts},
        {"a sketch is deterministic and normalised", test_sketch_deterministic_and_normalised},
        {"a wave of copies joins one campaign", test_text_wave_joins_one_campaign},
        {"personalised copies still gather", test_personalised_copies_recall},
        {"reports add up on the campaign", test_reports_add_up},
        {"windows decay and idle campaigns expire", test_decay_and_expiry},
        {"lockstep groups by fields", test_fields_lockstep},
        {"the memory cap evicts cold campaigns", test_cap_evicts_cold},
        {"two threads at once", test_two_threads},
        {"verdict.campaign and verdict.shape in rules", test_lua_api},
        {"items out of order keep the counts", test_out_of_order_items_keep_counts},
        {"an operation Redis did not answer falls back to the index",
         test_op_falls_back_to_the_index},
        {"replies from Redis are checked", test_redis_replies_are_checked},
        {NULL, NULL}};
    vd_add_suite("campaign", tests);
}
