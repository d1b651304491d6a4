/* verdict.campaign: the campaign an item belongs to (engine/state/campaign.h), on the index
 * every worker shares; verdict.shape: the form of a value that lockstep groups are made of.
 * A campaign answer is kept in the decision's observations, so that explain shows it among
 * the rule's state reads and the decision log records it; a replay answers from the record
 * instead of the index, as it does for counters. */
#include "lua_campaign.h"

#include "lua_store.h"

#include "base/error.h"
#include "base/hex.h"
#include "decision/decision.h"
#include "decision/recorded.h"
#include "proto/json_write.h"
#include "proto/mp_scan.h"
#include "proto/mpbuf.h"
#include "readonly.h"
#include "state.h"
#include "state/campaign.h"
#include "state/campaign_key.h"
#include "state/campaign_op.h"
#include "state/redis.h"
#include "state/sketch.h"
#include "udata.h"

#include <lauxlib.h>
#include <msgpack.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <xxhash.h>

/* The decision's time (a caller may set it, as replays do); 0 outside requests. */
static int64_t now(lua_State *L) {
    vd_exec_t *e = vd_lua_ls(L)->exec;
    return e ? e->now_s : 0;
}

/* The view's fields, in the order explain and the decision log show them: one list for both
 * encodings (the key with its length, for the hot path of the decision log). */
enum { F_ID, F_BOOL, F_INT, F_DOUBLE };
#define FIELD(k, t)                                                                                \
    { k, sizeof k - 1, t }
static const struct {
    const char *key;
    uint8_t len, type;
} view_fields[] = {
    FIELD("id", F_ID),        FIELD("new", F_BOOL),       FIELD("similarity", F_DOUBLE),
    FIELD("size", F_INT),     FIELD("recent", F_INT),     FIELD("growth_1h", F_INT),
    FIELD("sources", F_INT),  FIELD("first_seen", F_INT), FIELD("last_seen", F_INT),
    FIELD("window", F_INT),   FIELD("bad", F_DOUBLE),     FIELD("good", F_DOUBLE),
    FIELD("reporters", F_INT)};
#undef FIELD
#define VIEW_FIELDS (sizeof view_fields / sizeof *view_fields)

/* The values of v's fields, in view_fields' order: whole numbers (F_BOOL, F_INT) in n,
 * doubles (F_DOUBLE) in x. */
static void view_values(const vd_campaign_view_t *v, int64_t n[VIEW_FIELDS],
                        double x[VIEW_FIELDS]) {
    const int64_t ints[VIEW_FIELDS] = {0,
                                       v->created,
                                       0,
                                       (int64_t)v->size,
                                       (int64_t)v->recent,
                                       (int64_t)v->growth_1h,
                                       (int64_t)v->sources,
                                       v->first_seen,
                                       v->last_seen,
                                       v->window,
                                       0,
                                       0,
                                       (int64_t)v->reporters};
    memcpy(n, ints, sizeof ints);
    x[2] = (double)v->agree / VD_SKETCH_HASHES;
    x[10] = v->bad;
    x[11] = v->good;
}

static void pack_view(msgpack_sbuffer *sb, const vd_campaign_view_t *v) {
    char id[16];
    int64_t n[VIEW_FIELDS];
    double x[VIEW_FIELDS];
    vd_hex64(id, v->id);
    view_values(v, n, x);
    vd_mp_map(sb, VIEW_FIELDS);
    for (size_t i = 0; i < VIEW_FIELDS; i++) {
        vd_mp_str(sb, view_fields[i].key, view_fields[i].len);
        switch (view_fields[i].type) {
        case F_ID:
            vd_mp_str(sb, id, sizeof id);
            break;
        case F_BOOL:
            vd_mp_bool(sb, n[i] != 0);
            break;
        case F_INT:
            vd_mp_int(sb, n[i]);
            break;
        default:
            vd_mp_double(sb, x[i]);
            break;
        }
    }
}

/* The same view as JSON text, for a decision that is only logged (vd_observe_as_json): what
 * its log line would have made of pack_view's msgpack, without packing and reading it. Written
 * into out (VIEW_JSON_MAX bytes: every field at its widest); returns its length. */
#define VIEW_JSON_MAX 512
_Static_assert(VIEW_FIELDS *(4 + 10 + 24) + 1 <= VIEW_JSON_MAX, /* punctuation, key, value */
               "a view's JSON fits its buffer");
static size_t json_view(char *out, const vd_campaign_view_t *v) {
    char id[16], *o = out;
    int64_t n[VIEW_FIELDS];
    double x[VIEW_FIELDS];
    vd_hex64(id, v->id);
    view_values(v, n, x);
    for (size_t i = 0; i < VIEW_FIELDS; i++) {
        *o++ = i ? ',' : '{';
        *o++ = '"';
        memcpy(o, view_fields[i].key, view_fields[i].len);
        o += view_fields[i].len;
        *o++ = '"';
        *o++ = ':';
        switch (view_fields[i].type) {
        case F_ID:
            o = vd_json_put_str(o, id, sizeof id);
            break;
        case F_BOOL:
            memcpy(o, n[i] ? "true" : "false", n[i] ? 4 : 5);
            o += n[i] ? 4 : 5;
            break;
        case F_INT:
            o = vd_json_put_int(o, n[i]);
            break;
        default:
            o = vd_json_put_double(o, x[i]);
            break;
        }
    }
    *o++ = '}';
    return (size_t)(o - out);
}

/* One scalar of a recorded view read in place into *num (numbers, booleans) or *str (the
 * id): returns the bytes read, 0 when malformed. */
static size_t read_scalar(const unsigned char *p, size_t n, double *num, const char **str,
                          size_t *slen) {
    vd_mp_value_t v;
    size_t head = vd_mp_read_head(p, n, &v);
    if (!head || (v.kind == VD_MP_STR && v.len > n - head)) return 0;
    *str = NULL;
    *num = v.kind == VD_MP_UINT || v.kind == VD_MP_BOOL ? (double)v.u
           : v.kind == VD_MP_INT                        ? (double)v.i
           : v.kind == VD_MP_FLOAT                      ? v.d
                                                        : 0;
    if (v.kind == VD_MP_STR) {
        *str = (const char *)p + head;
        *slen = (size_t)v.len;
        return head + (size_t)v.len;
    }
    return v.kind == VD_MP_ARRAY || v.kind == VD_MP_MAP || v.kind == VD_MP_EXT ? 0 : head;
}

/* Sets the field of v that key names (an unknown key changes nothing). */
static void set_field(vd_campaign_view_t *v, const char *key, size_t klen, double num,
                      const char *str, size_t slen) {
#define IS(name) (klen == sizeof name - 1 && memcmp(key, name, klen) == 0)
    if (IS("id") && str && slen < 20) {
        char hex[20];
        memcpy(hex, str, slen);
        hex[slen] = '\0';
        v->id = strtoull(hex, NULL, 16);
    } else if (IS("new")) {
        v->created = num != 0;
    } else if (IS("similarity")) {
        v->agree = (int)(num * VD_SKETCH_HASHES + 0.5);
    } else if (IS("size")) {
        v->size = (uint64_t)num;
    } else if (IS("recent")) {
        v->recent = (uint64_t)num;
    } else if (IS("growth_1h")) {
        v->growth_1h = (uint64_t)num;
    } else if (IS("sources")) {
        v->sources = (uint64_t)num;
    } else if (IS("first_seen")) {
        v->first_seen = (int64_t)num;
    } else if (IS("last_seen")) {
        v->last_seen = (int64_t)num;
    } else if (IS("window")) {
        v->window = (int64_t)num;
    } else if (IS("bad")) {
        v->bad = num;
    } else if (IS("good")) {
        v->good = num;
    } else if (IS("reporters")) {
        v->reporters = (uint64_t)num;
    }
#undef IS
}

/* A recorded view (as pack_view wrote it) back into v: 0, or -1 when it is not a map (nil:
 * the original had no campaign). */
static int unpack_view(const char *bytes, size_t n, vd_campaign_view_t *v) {
    const unsigned char *p = (const unsigned char *)bytes, *end = p + n;
    vd_mp_value_t map;
    size_t head = vd_mp_read_head(p, n, &map);
    memset(v, 0, sizeof *v);
    if (!head || map.kind != VD_MP_MAP) return -1;
    p += head;
    for (uint64_t i = 0; i < map.len; i++) {
        double knum, num;
        const char *key, *str;
        size_t klen = 0, slen = 0;
        size_t k = read_scalar(p, (size_t)(end - p), &knum, &key, &klen);
        size_t m = k ? read_scalar(p + k, (size_t)(end - p - k), &num, &str, &slen) : 0;
        if (!m) break; /* a malformed record: what was read stays */
        if (key) set_field(v, key, klen, num, str, slen);
        p += k + m;
    }
    return 0;
}

/* What a rule holds: the view, read-only, its fields read on demand (a rule reads two or
 * three of them; building a table of fifteen cost more than the lookup itself). */
typedef struct view_ud {
    vd_campaign_view_t v;
    const char *kind;
} view_ud_t;

static void push_view(lua_State *L, const vd_campaign_view_t *v, const char *kind) {
    view_ud_t *u = vd_udata_new(L, VD_UDATA_CAMPAIGN, sizeof *u, 0);
    u->v = *v;
    u->kind = kind;
}

/* campaign.<field>: the view's fields (docs/campaigns.md); nil for any other key. */
static int view_index(lua_State *L) {
    const view_ud_t *u = vd_udata_check(L, 1, VD_UDATA_CAMPAIGN);
    size_t n;
    const char *k = luaL_checklstring(L, 2, &n);
    const vd_campaign_view_t *v = &u->v;
#define IS(name) (n == sizeof name - 1 && memcmp(k, name, n) == 0)
    if (IS("size")) {
        lua_pushinteger(L, (lua_Integer)v->size);
    } else if (IS("recent")) {
        lua_pushinteger(L, (lua_Integer)v->recent);
    } else if (IS("sources")) {
        lua_pushinteger(L, (lua_Integer)v->sources);
    } else if (IS("growth_1h")) {
        lua_pushinteger(L, (lua_Integer)v->growth_1h);
    } else if (IS("id")) {
        char id[16];
        lua_pushlstring(L, id, (size_t)(vd_hex64(id, v->id) - id));
    } else if (IS("kind")) {
        lua_pushstring(L, u->kind);
    } else if (IS("new")) {
        lua_pushboolean(L, v->created);
    } else if (IS("similarity")) {
        lua_pushnumber(L, (double)v->agree / VD_SKETCH_HASHES);
    } else if (IS("first_seen")) {
        lua_pushinteger(L, (lua_Integer)v->first_seen);
    } else if (IS("last_seen")) {
        lua_pushinteger(L, (lua_Integer)v->last_seen);
    } else if (IS("window")) {
        lua_pushinteger(L, (lua_Integer)v->window);
    } else if (IS("bad")) {
        lua_pushnumber(L, v->bad);
    } else if (IS("good")) {
        lua_pushnumber(L, v->good);
    } else if (IS("reporters")) {
        lua_pushinteger(L, (lua_Integer)v->reporters);
    } else {
        lua_pushnil(L);
    }
#undef IS
    return 1;
}

static int view_newindex(lua_State *L) {
    return luaL_error(L, "a campaign is read-only (copy what you need into a local)");
}

/* What an item is asked about, for the observation that names it. */
typedef struct ask {
    const char *kind;
    char key[48]; /* "<kind>:<hex digest of the input, scope and window>" */
    size_t klen;
    const char *source;
    size_t slen;
} ask_t;

/* Keeps the answer for the decision log and explain (when the decision is observed). */
static int observe(lua_State *L, const ask_t *a, const char *packed, size_t plen, int json) {
    vd_exec_t *e = vd_lua_ls(L)->exec;
    if (!e || !e->d->observe) return 0;
    vd_observed_t o = {.kind = VD_OBS_CAMPAIGN,
                       .name = a->key,
                       .len = a->klen,
                       .value = a->source,
                       .vlen = a->slen,
                       .packed = packed,
                       .plen = plen,
                       .json = json};
    return vd_decision_observe(e->d, &o);
}

/* A replay's answer from the record: 1 (pushed: the view, or nil when the original had no
 * campaign), else 0 (ask the index). */
static int answer_recorded(lua_State *L, const ask_t *a) {
    vd_exec_t *e = vd_lua_ls(L)->exec;
    vd_recorded_t *rec = e ? e->d->recorded : NULL;
    if (!rec || !rec->state || e->d->reporting) return 0;
    const vd_observed_t *o =
        vd_recorded_take(rec, VD_OBS_CAMPAIGN, a->key, a->klen, a->source, a->source ? a->slen : 0);
    if (!o && rec->store_forbidden) { /* this decision is made again, in order */
        rec->missed = 1;
        lua_pushnil(L);
        return 1;
    }
    if (!o) return 0;
    if (observe(L, a, o->packed, o->plen, 0)) return luaL_error(L, "out of memory");
    vd_campaign_view_t v;
    if (unpack_view(o->packed, o->plen, &v) != 0)
        lua_pushnil(L);
    else
        push_view(L, &v, a->kind);
    return 1;
}

/* Pushes the answer rc/v (nil when there is no campaign) and observes it. */
/* Keeps the answer rc/v for the decision log and explain when the decision is observed (the
 * buffer is freed before anything can raise), then pushes it (nil when there is none). */
static int push_answer(lua_State *L, const ask_t *a, int rc, const vd_campaign_view_t *v) {
    if (rc == VD_ENOMEM) return luaL_error(L, "campaign index: out of memory");
    vd_exec_t *e = vd_lua_ls(L)->exec;
    if (e && rc == 0) vd_decision_note_campaign(e->d, (int)v->kind, v->id);
    if (e && e->d->observe && vd_observe_as_json(e->d)) { /* only logged: its line's text */
        char text[VIEW_JSON_MAX];
        size_t len = rc == 0 ? json_view(text, v) : (memcpy(text, "null", 4), 4);
        if (observe(L, a, text, len, 1)) return luaL_error(L, "out of memory");
    } else if (e && e->d->observe) {
        msgpack_sbuffer sb;
        msgpack_sbuffer_init(&sb);
        if (rc == 0)
            pack_view(&sb, v);
        else
            vd_mp_nil(&sb);
        int bad = sb.data == NULL || observe(L, a, sb.data, sb.size, 0);
        msgpack_sbuffer_destroy(&sb);
        if (bad) return luaL_error(L, "out of memory");
    }
    if (rc != 0)
        lua_pushnil(L);
    else
        push_view(L, v, a->kind);
    return 1;
}

/* opts: {source =, window =, ttl =, scope =, look = true}. A report's run only looks. */
static void read_opts(lua_State *L, int idx, vd_campaign_opts_t *o) {
    vd_exec_t *e = vd_lua_ls(L)->exec;
    if (e && e->d->reporting) o->look_only = 1;
    if (lua_isnoneornil(L, idx)) return;
    luaL_checktype(L, idx, LUA_TTABLE);
    if (lua_getfield(L, idx, "source") != LUA_TNIL) {
        luaL_argcheck(L, lua_type(L, -1) == LUA_TSTRING || lua_type(L, -1) == LUA_TNUMBER, idx,
                      "opts.source must be a string");
        o->source = lua_tolstring(L, -1, &o->source_len); /* kept alive by the stack */
    }
    if (lua_getfield(L, idx, "scope") != LUA_TNIL) {
        luaL_argcheck(L, lua_type(L, -1) == LUA_TSTRING, idx, "opts.scope must be a string");
        o->scope = lua_tolstring(L, -1, &o->scope_len);
    }
    lua_getfield(L, idx, "window");
    o->window = luaL_optinteger(L, -1, 0);
    luaL_argcheck(L,
                  o->window == 0 ||
                      (o->window >= VD_CAMPAIGN_MIN_WINDOW && o->window <= VD_CAMPAIGN_MAX_WINDOW),
                  idx, "opts.window must be from 60 seconds to 30 days");
    lua_getfield(L, idx, "ttl");
    o->ttl = luaL_optinteger(L, -1, 0);
    luaL_argcheck(L, o->ttl >= 0 && o->ttl <= 4 * VD_CAMPAIGN_MAX_WINDOW, idx,
                  "opts.ttl must be from 0 to 120 days");
    lua_getfield(L, idx, "look");
    o->look_only |= lua_toboolean(L, -1);
    lua_pop(L, 3);
}

/* Names what is asked, for the decision log and a replay's record; only a decision that is
 * observed or replayed needs the name. */
static void name_ask(lua_State *L, ask_t *a, const char *kind, uint64_t digest,
                     const vd_campaign_opts_t *o) {
    vd_exec_t *e = vd_lua_ls(L)->exec;
    a->kind = kind;
    a->source = o->source;
    a->slen = o->source_len;
    a->klen = 0;
    if (!e || !(e->d->observe || (e->d->recorded && e->d->recorded->state))) return;
    uint64_t h = digest ^ (uint64_t)o->window ^
                 (o->scope_len ? XXH3_64bits(o->scope, o->scope_len) : 0) ^ (uint64_t)o->look_only;
    size_t kl = strlen(kind); /* "text" or "fields" */
    memcpy(a->key, kind, kl);
    a->key[kl] = ':';
    a->klen = (size_t)(vd_hex64(a->key + kl + 1, h) - a->key);
}

static vd_campaigns_t *index_of(lua_State *L) {
    vd_campaigns_t *c = vd_lua_ls(L)->limits.campaigns;
    if (!c) luaL_error(L, "campaigns are not available here");
    return c;
}

/* The answer of a campaign operation a rule waited for (or its fallback's): pushed, observed,
 * and the operation freed before anything can raise. The item's source is the string ask_redis
 * left on top of the stack (nil for none): the operation's copy goes with it. */
static int push_op(lua_State *L, vd_state_op_t *op) {
    vd_lstate_t *ls = vd_lua_ls(L);
    vd_campaign_ask_t *ask = vd_campaign_op_ask(op);
    if (op->failed) vd_lua_note_state_fallback(L, op->why);
    vd_campaign_op_resolve(op, ls->limits.campaigns, ls->limits.state_fail_open);
    vd_campaign_opts_t o;
    vd_campaign_op_opts(op, &o);
    int text = ask->what == VD_CAMPAIGN_ASK_TEXT;
    ask_t a;
    name_ask(L, &a, text ? "text" : "fields", text ? vd_sketch_digest(&ask->sketch) : ask->key, &o);
    a.source = lua_type(L, -1) == LUA_TSTRING ? lua_tolstring(L, -1, &a.slen) : NULL;
    int rc = ask->rc;
    vd_campaign_view_t v = ask->view;
    free(op);
    return push_answer(L, &a, rc, &v);
}

static int after_wait(lua_State *L, int status, lua_KContext k) {
    (void)status;
    (void)k;
    return push_op(L, vd_lua_take_resumed(L));
}

/* Asks Redis, yielding the rule until the answer when it runs where it may wait. */
static int ask_redis(lua_State *L, const vd_campaign_ask_t *ask, const vd_campaign_opts_t *o) {
    vd_lstate_t *ls = vd_lua_ls(L);
    index_of(L);   /* the fallback */
    if (o->source) /* for push_op: on the stack, where the answer finds it without allocating */
        lua_pushlstring(L, o->source, o->source_len);
    else
        lua_pushnil(L);
    vd_state_op_t *op = vd_campaign_op_new(ask, o, NULL, 0);
    if (!op) return luaL_error(L, "out of memory");
    op->now = now(L);
    if (!(ls->exec && ls->exec->can_wait && lua_isyieldable(L))) {
        op->failed = 1;
        snprintf(op->why, sizeof op->why, "Redis cannot be waited for here");
        return push_op(L, op);
    }
    op->deadline_ns = ls->exec->deadline_ns;
    if (vd_redis_submit(ls->redis, op) != 0) return push_op(L, op);
    ls->pending_op = op;
    return lua_yieldk(L, 0, 0, after_wait);
}

static int text_campaign(lua_State *L) {
    if (lua_isnoneornil(L, 2)) return lua_pushnil(L), 1; /* no text: no campaign */
    size_t len;
    const char *text = luaL_checklstring(L, 2, &len);
    vd_campaign_opts_t o = {0};
    read_opts(L, 3, &o);
    vd_lua_charge(L, len < VD_SKETCH_MAX_BYTES ? len : VD_SKETCH_MAX_BYTES);
    vd_sketch_t sk;
    if (vd_sketch_text(text, len, &sk) != 0) { /* too short to tell copies from chance */
        if (vd_lua_ls(L)->limits.campaigns) vd_campaigns_note_short(vd_lua_ls(L)->limits.campaigns);
        return lua_pushnil(L), 1;
    }
    ask_t a;
    name_ask(L, &a, "text", vd_sketch_digest(&sk), &o);
    if (answer_recorded(L, &a)) return 1;
    if (vd_lua_ls(L)->redis) {
        vd_campaign_ask_t ask = {.what = VD_CAMPAIGN_ASK_TEXT, .sketch = sk};
        return ask_redis(L, &ask, &o);
    }
    vd_campaign_view_t v;
    int rc = vd_campaign_text(index_of(L), &sk, &o, now(L), &v);
    return push_answer(L, &a, rc, &v);
}

/* The fields of the table at idx, as strings (numbers and booleans written out). */
static size_t read_fields(lua_State *L, int idx, vd_campaign_kv_t *f) {
    size_t n = 0;
    luaL_checktype(L, idx, LUA_TTABLE);
    luaL_checkstack(L, VD_CAMPAIGN_MAX_FIELDS + 4, "too many fields");
    if (vd_lua_readonly_original(L, idx)) /* a table the policy built while loading */
        lua_replace(L, idx);
    lua_pushnil(L);
    while (lua_next(L, idx)) {
        luaL_argcheck(L, lua_type(L, -2) == LUA_TSTRING, idx, "field names must be strings");
        luaL_argcheck(L, n < VD_CAMPAIGN_MAX_FIELDS, idx, "at most 16 fields");
        int t = lua_type(L, -1);
        luaL_argcheck(L, t == LUA_TSTRING || t == LUA_TNUMBER || t == LUA_TBOOLEAN, idx,
                      "field values must be strings, numbers or booleans");
        if (t == LUA_TBOOLEAN) {
            lua_pushstring(L, lua_toboolean(L, -1) ? "true" : "false");
            lua_replace(L, -2);
        }
        f[n].name = lua_tolstring(L, -2, &f[n].nlen);
        /* A number becomes a string in its stack slot, which stays (and so keeps the string
         * alive) below the keys still to come. */
        f[n].value = lua_tolstring(L, -1, &f[n].vlen);
        lua_insert(L, -2);
        n++;
    }
    return n;
}

static int fields_campaign(lua_State *L) {
    vd_campaign_opts_t o = {0};
    read_opts(L, 3, &o);
    vd_campaign_kv_t f[VD_CAMPAIGN_MAX_FIELDS];
    size_t n = read_fields(L, 2, f);
    uint64_t key;
    if (vd_campaign_fields_key(f, n, &key) != 0)
        return luaL_argerror(L, 2, "needs at least one field");
    ask_t a;
    name_ask(L, &a, "fields", key, &o);
    if (answer_recorded(L, &a)) return 1;
    if (vd_lua_ls(L)->redis) {
        vd_campaign_ask_t ask = {.what = VD_CAMPAIGN_ASK_FIELDS, .key = key};
        return ask_redis(L, &ask, &o);
    }
    vd_campaign_view_t v;
    int rc = vd_campaign_fields(index_of(L), key, &o, now(L), &v);
    return push_answer(L, &a, rc, &v);
}

/* verdict.campaign(kind, text_or_fields [, opts]) -> the campaign's view, or nil. */
static int l_campaign(lua_State *L) {
    const char *kind = luaL_checkstring(L, 1);
    if (strcmp(kind, "text") == 0) return text_campaign(L);
    if (strcmp(kind, "fields") == 0) return fields_campaign(L);
    return luaL_argerror(L, 1, "must be \"text\" or \"fields\"");
}

/* The class of a byte for verdict.shape: 'a' lower, 'A' upper, '9' digit, 'u' a byte of a
 * non-ASCII character, else the byte itself. */
static char shape_class(unsigned char c) {
    if (c >= 'a' && c <= 'z') return 'a';
    if (c >= 'A' && c <= 'Z') return 'A';
    if (c >= '0' && c <= '9') return '9';
    if (c >= 0x80) return 'u';
    return (char)c;
}

/* verdict.shape(s) -> what a templated value keeps while the values change: a run of letters
 * of one case (or of non-ASCII characters) becomes one "a", "A" (or "u"), a run of digits
 * keeps its length as that many "9" (up to 6: templates fix a number's width, people do
 * not), anything else stays. "emma_wilson42" -> "a_a99". nil for anything but a string. */
static int l_shape(lua_State *L) {
    if (lua_type(L, 1) != LUA_TSTRING) return lua_pushnil(L), 1;
    size_t len, n = 0;
    const char *s = lua_tolstring(L, 1, &len);
    char out[64];
    int digits = 0;
    for (size_t i = 0; i < len && n < sizeof out; i++) {
        char k = shape_class((unsigned char)s[i]);
        if (k == '9' && ++digits > 6) continue;
        if (k != '9') digits = 0;
        if (k != '9' && n && out[n - 1] == k && (k == 'a' || k == 'A' || k == 'u')) continue;
        out[n++] = k;
    }
    lua_pushlstring(L, out, n);
    return 1;
}

void vd_lua_open_campaign(lua_State *L) {
    vd_udata_newtype(L, VD_UDATA_CAMPAIGN);
    lua_pushcfunction(L, view_index);
    lua_setfield(L, -2, "__index");
    lua_pushcfunction(L, view_newindex);
    lua_setfield(L, -2, "__newindex");
    lua_pop(L, 1);
    lua_pushcfunction(L, l_campaign);
    lua_setfield(L, -2, "campaign");
    lua_pushcfunction(L, l_shape);
    lua_setfield(L, -2, "shape");
}
