/* verdict.anomaly(key, value [, opts]) -> a table, or nil when key is not a string or value not
 * a number.
 *
 *   local _, hour = verdict.counter("signup:asn:" .. asn)
 *   local a = verdict.anomaly("signup:asn:" .. asn, hour,
 *                             { what = "signups from AS" .. asn .. " in the hour" })
 *   a.score       -- 0 (ordinary for this series) .. 1
 *   a.alarm       -- score at or above 0.5
 *   a.above       -- above the band of ordinary values at this time
 *   a.novel       -- beyond every value the series has shown lately
 *   a.expected, a.low, a.high, a.seen, a.learning
 *   a.why         -- "signups from AS64500 in the hour: 412, expected 20-45 (...)"
 *
 * Each key has its own model (anomaly_model.h), which learns the series' level, spread and
 * daily and weekly rhythm. A rule calls it on every request, but a series is a value per period:
 * the model learns at most one value every opts.every seconds (default 60), the first that
 * comes in each period; the other calls are scored against the model as it stands (a copy), so
 * a burst is scored on what came before it rather than taught to the model as it happens.
 * Models are records of the embedded store (engine/state/store.h): they share its memory cap,
 * are evicted least recently used first, and are kept by state snapshots. The time is the
 * decision's. */
#include "lua_anomaly.h"

#include "anomaly_record.h"
#include "base/clock.h"
#include "base/error.h"
#include "decision/decision.h"
#include "decision/recorded.h"
#include "proto/json_write.h"
#include "proto/mpbuf.h"
#include "state.h"
#include "state/anomaly.h"

#include <lauxlib.h>
#include <math.h>
#include <string.h>

static void set_num(lua_State *L, const char *k, double v) {
    lua_pushnumber(L, v);
    lua_setfield(L, -2, k);
}

static void set_bool(lua_State *L, const char *k, int v) {
    lua_pushboolean(L, v);
    lua_setfield(L, -2, k);
}

/* For explain and the decision log: the value and what the model said. */
static int observe(lua_State *L, const char *key, size_t len, const vd_anomaly_result_t *r,
                   int64_t every, const char *why) {
    vd_exec_t *e = vd_lua_ls(L)->exec;
    if (!e || !e->d->observe) return 0;
    vd_observed_t o = {.kind = VD_OBS_ANOMALY, .name = key, .len = len};
    if (vd_observe_as_json(e->d)) { /* only the decision log reads it: its text at once */
        static const char *const keys[] = {"{\"value\":", ",\"score\":", ",\"expected\":",
                                           ",\"low\":",   ",\"high\":",  ",\"surprise\":"};
        const double x[] = {r->value, r->score, r->expected, r->low, r->high, r->surprise};
        char text[10 * (12 + 32) + 2], *p = text; /* 6 numbers and 3 integers, keys included */
        for (int i = 0; i < 6; i++) {
            size_t kl = strlen(keys[i]);
            memcpy(p, keys[i], kl);
            p = vd_json_put_double(p + kl, x[i]);
        }
        memcpy(p, ",\"seen\":", 8);
        p = vd_json_put_int(p + 8, (int64_t)r->seen);
        memcpy(p, ",\"flags\":", 9);
        p = vd_json_put_int(p + 9, (int64_t)r->why);
        memcpy(p, ",\"every\":", 9);
        p = vd_json_put_int(p + 9, every);
        *p++ = '}';
        o.packed = text;
        o.plen = (size_t)(p - text);
        o.json = 1;
        return vd_decision_observe(e->d, &o);
    }
    msgpack_sbuffer sb;
    msgpack_sbuffer_init(&sb);
    /* The sentence only for explain: a logged decision keeps the numbers it is made of. */
    vd_mp_map(&sb, 9 + (e->d->explain != 0));
    VD_MP_LIT(&sb, "value");
    vd_mp_double(&sb, r->value);
    VD_MP_LIT(&sb, "score");
    vd_mp_double(&sb, r->score);
    VD_MP_LIT(&sb, "expected");
    vd_mp_double(&sb, r->expected);
    VD_MP_LIT(&sb, "low");
    vd_mp_double(&sb, r->low);
    VD_MP_LIT(&sb, "high");
    vd_mp_double(&sb, r->high);
    VD_MP_LIT(&sb, "surprise");
    vd_mp_double(&sb, r->surprise);
    VD_MP_LIT(&sb, "seen");
    vd_mp_int(&sb, (int64_t)r->seen);
    VD_MP_LIT(&sb, "flags");
    vd_mp_int(&sb, (int64_t)r->why);
    VD_MP_LIT(&sb, "every");
    vd_mp_int(&sb, every);
    if (e->d->explain) {
        VD_MP_LIT(&sb, "why");
        vd_mp_cstr(&sb, why);
    }
    o.packed = sb.data ? sb.data : "";
    o.plen = sb.size;
    int rc = sb.data && sb.size ? vd_decision_observe(e->d, &o) : -1;
    msgpack_sbuffer_destroy(&sb);
    return rc;
}

/* A replay's answer from the record: 1 when the original decision asked this key's model about
 * the same value and the record holds all of its answer (r filled), else 0. The model is left
 * as it is, as a counter answered from the record is: the answer already holds what it
 * learnt. */
static int answer_recorded(vd_recorded_t *rec, const char *key, size_t len, double value,
                           int64_t every, vd_anomaly_result_t *r) {
    if (!rec || !rec->state) return 0;
    const vd_observed_t *o = vd_recorded_take(rec, VD_OBS_ANOMALY, key, len, NULL, 0);
    return o && o->packed && vd_anomaly_from_record(o->packed, o->plen, value, every, r) == 0;
}

/* A read answered from the record: what it would have taught the replay's own model, for the
 * replay to apply in input order (recorded.h). */
static void learn_later(vd_recorded_t *rec, const char *key, size_t len, int64_t now, double value,
                        int64_t every) {
    msgpack_packer pk;
    if (!vd_recorded_learn_begin(rec, &pk, VD_LEARN_ANOMALY, 5, key, len, now)) return;
    msgpack_pack_double(&pk, value);
    msgpack_pack_int64(&pk, every);
}

static int l_anomaly(lua_State *L) {
    int isnum;
    double value = lua_tonumberx(L, 2, &isnum);
    if (lua_type(L, 1) != LUA_TSTRING || !isnum) return lua_pushnil(L), 1;
    size_t len;
    const char *key = lua_tolstring(L, 1, &len);
    luaL_argcheck(L, len <= 1024, 1, "a key of at most 1024 bytes");
    int64_t every = 60;
    const char *what = key;
    if (lua_type(L, 3) == LUA_TTABLE) {
        if (lua_getfield(L, 3, "every") != LUA_TNIL) {
            int ok;
            every = lua_tointegerx(L, -1, &ok);
            if (!ok || every < 1 || every > 86400)
                luaL_error(L, "verdict.anomaly: every must be a whole number of seconds from 1 "
                              "to 86400");
        }
        if (lua_getfield(L, 3, "what") == LUA_TSTRING) what = lua_tostring(L, -1);
        lua_pop(L, 2);
    }
    vd_lstate_t *ls = vd_lua_ls(L);
    vd_exec_t *e = ls->exec;
    vd_recorded_t *rec = e ? e->d->recorded : NULL;
    if (!ls->limits.store) return luaL_error(L, "state (anomaly models) is not available here");
    vd_anomaly_result_t r = {.why = VD_ANOMALY_LEARNING};
    int rc = 0;
    int64_t now = e ? e->now_s : vd_clock_now_s(NULL);
    if (!(fabs(value) <= VD_ANOMALY_VALUE_MAX)) return lua_pushnil(L), 1; /* NaN, too big */
    if (answer_recorded(rec, key, len, value, every, &r)) { /* as the original decision saw it */
        vd_anomaly_result_t taught;
        if (!rec->store_forbidden) /* made in order: the model learns it now (recorded.h) */
            vd_anomaly_observe(ls->limits.store, key, len, now, value, every, &taught);
        else
            learn_later(rec, key, len, now, value, every);
    } else if (rec && rec->store_forbidden) { /* a replay the record cannot answer: in order */
        rec->missed = 1;
    } else
        rc = vd_anomaly_observe(ls->limits.store, key, len, now, value, every, &r);
    if (rc == VD_EINVAL) return lua_pushnil(L), 1; /* not a value a model takes (NaN, too big) */
    if (rc) return luaL_error(L, "verdict.anomaly: out of memory");
    char why[300];
    vd_anomaly_explain(&r, what, why, sizeof why);
    if (observe(L, key, len, &r, every, why)) return luaL_error(L, "out of memory");
    lua_createtable(L, 0, 10);
    set_num(L, "score", r.score);
    set_bool(L, "alarm", r.score >= VD_ANOMALY_ALARM);
    set_bool(L, "above", (r.why & VD_ANOMALY_ABOVE) != 0);
    set_bool(L, "novel", (r.why & VD_ANOMALY_NOVEL) != 0);
    set_bool(L, "learning", (r.why & VD_ANOMALY_LEARNING) != 0);
    set_num(L, "expected", r.expected);
    set_num(L, "low", r.low);
    set_num(L, "high", r.high);
    set_num(L, "surprise", r.surprise);
    lua_pushinteger(L, (lua_Integer)r.seen);
    lua_setfield(L, -2, "seen");
    lua_pushstring(L, why);
    lua_setfield(L, -2, "why");
    return 1;
}

void vd_lua_open_anomaly(lua_State *L) {
    lua_pushcfunction(L, l_anomaly);
    lua_setfield(L, -2, "anomaly");
}
