/* verdict.profile(entity, attrs [, opts]) -> a table, or nil when entity is not a string.
 *
 *   local p = verdict.profile("acct:" .. ev.account,
 *                             { country = cc, asn = asn, device = family, hour = hour },
 *                             { place = { lat, lon } })
 *   p.events                 -- events of the entity before this one
 *   p.country.new            -- the value never came (or its count decayed away)
 *   p.country.share          -- its share of the attribute's (decayed) events, 0 to 1
 *   p.country.count, .last_seen, .values
 *   p.travel                 -- with a place both now and before: { km, hours, kmh, from_lat,
 * from_lon }
 *
 * The event is added after the answer (opts.read_only = true: only read); opts.half_life_days
 * (default 30) is how fast old habits fade. Values may be strings, numbers or booleans; nil
 * ones are left out. Embedded only (each daemon keeps its own profiles).
 *
 * verdict.country_place(code) -> lat, lon: where a country is, roughly, for opts.place. */
#include "lua_profile.h"

#include "country_places.h"
#include "profile_record.h"

#include "base/clock.h"
#include "decision/decision.h"
#include "decision/recorded.h"
#include "proto/mpbuf.h"
#include "state.h"
#include "state/profile.h"

#include <lauxlib.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

static const char *const reserved[] = {"events", "first_seen", "last_seen", "travel", NULL};

typedef struct args {
    vd_profile_attr_t attrs[VD_PROFILE_MAX_ATTRS];
    char text[VD_PROFILE_MAX_ATTRS][32]; /* numbers and booleans as text */
    size_t n;
    vd_profile_opts_t o;
} args_t;

/* The value at the top of the stack as text (borrowed from Lua or written into buf). */
static const char *value_text(lua_State *L, char buf[32], size_t *len) {
    switch (lua_type(L, -1)) {
    case LUA_TSTRING:
        return lua_tolstring(L, -1, len);
    case LUA_TBOOLEAN:
        *len = (size_t)snprintf(buf, 32, "%s", lua_toboolean(L, -1) ? "true" : "false");
        return buf;
    case LUA_TNUMBER:
        if (lua_isinteger(L, -1))
            *len = (size_t)snprintf(buf, 32, "%lld", (long long)lua_tointeger(L, -1));
        else
            *len = (size_t)snprintf(buf, 32, "%.17g", lua_tonumber(L, -1));
        return buf;
    default:
        return NULL;
    }
}

static void read_attrs(lua_State *L, int idx, args_t *a) {
    luaL_checktype(L, idx, LUA_TTABLE);
    for (lua_pushnil(L); lua_next(L, idx); lua_pop(L, 1)) {
        if (lua_type(L, -2) != LUA_TSTRING)
            luaL_error(L, "verdict.profile: attribute names are strings");
        size_t nlen, vlen = 0;
        const char *name = lua_tolstring(L, -2, &nlen);
        for (int i = 0; reserved[i]; i++)
            if (strcmp(name, reserved[i]) == 0)
                luaL_error(L,
                           "verdict.profile: '%s' names a field of the answer: name the "
                           "attribute otherwise",
                           name);
        if (a->n == VD_PROFILE_MAX_ATTRS)
            luaL_error(L, "verdict.profile: at most %d attributes", VD_PROFILE_MAX_ATTRS);
        const char *value = value_text(L, a->text[a->n], &vlen);
        if (!value)
            luaL_error(L,
                       "verdict.profile: attribute '%s' is a %s: give a string, a number or a "
                       "boolean (or nil to leave it out)",
                       name, luaL_typename(L, -1));
        a->attrs[a->n++] = (vd_profile_attr_t){name, value, nlen, vlen};
    }
}

static void read_opts(lua_State *L, int idx, args_t *a) {
    a->o.half_life_s = (int64_t)30 * 86400;
    if (lua_isnoneornil(L, idx)) return;
    luaL_checktype(L, idx, LUA_TTABLE);
    if (lua_getfield(L, idx, "half_life_days") != LUA_TNIL) {
        double days = luaL_checknumber(L, -1);
        luaL_argcheck(L, days > 0 && days <= 3650, idx,
                      "half_life_days: more than 0, at most 3650");
        a->o.half_life_s = (int64_t)(days * 86400);
    }
    lua_pop(L, 1);
    a->o.read_only = lua_getfield(L, idx, "read_only") != LUA_TNIL && lua_toboolean(L, -1);
    lua_pop(L, 1);
    int place = lua_getfield(L, idx, "place");
    if (place == LUA_TTABLE) {
        lua_geti(L, -1, 1);
        lua_geti(L, -2, 2);
        int ok_lat, ok_lon;
        double lat = lua_tonumberx(L, -2, &ok_lat), lon = lua_tonumberx(L, -1, &ok_lon);
        if (!ok_lat || !ok_lon || !(fabs(lat) <= 90) || !(fabs(lon) <= 180))
            luaL_error(L, "verdict.profile: place must be { lat, lon } in degrees (-90..90, "
                          "-180..180)");
        a->o.has_place = 1, a->o.lat = lat, a->o.lon = lon;
        lua_pop(L, 2);
    } else if (place != LUA_TNIL) {
        luaL_error(L, "verdict.profile: place must be { lat, lon }, not a %s",
                   luaL_typename(L, -1));
    }
    lua_pop(L, 1);
}

static void set_num(lua_State *L, const char *k, double v) {
    lua_pushnumber(L, v);
    lua_setfield(L, -2, k);
}

static void set_time(lua_State *L, const char *k, int64_t t) {
    if (!t) return; /* unknown: nil */
    lua_pushinteger(L, (lua_Integer)t);
    lua_setfield(L, -2, k);
}

/* The answer as the rule reads it. */
static void push_answer(lua_State *L, const args_t *a, const vd_profile_answer_t *r, int64_t now) {
    lua_createtable(L, 0, (int)a->n + 4);
    lua_pushinteger(L, (lua_Integer)r->events);
    lua_setfield(L, -2, "events");
    set_time(L, "first_seen", r->first_seen);
    set_time(L, "last_seen", r->last_seen);
    for (size_t k = 0; k < a->n; k++) {
        const vd_profile_seen_t *s = &r->seen[k];
        lua_createtable(L, 0, 5);
        lua_pushboolean(L, !s->known);
        lua_setfield(L, -2, "new");
        set_num(L, "share", s->share);
        set_num(L, "count", s->count);
        lua_pushinteger(L, (lua_Integer)s->values);
        lua_setfield(L, -2, "values");
        set_time(L, "last_seen", s->last_seen);
        lua_setfield(L, -2, a->attrs[k].name);
    }
    if (r->had_place && a->o.has_place) {
        double km = vd_geo_distance_km(r->last_lat, r->last_lon, a->o.lat, a->o.lon);
        double hours = (double)(now - r->last_place_at) / 3600.0;
        lua_createtable(L, 0, 5);
        set_num(L, "km", km);
        set_num(L, "hours", hours);
        set_num(L, "kmh", hours > 0 ? km / hours : (km > 0 ? HUGE_VAL : 0));
        set_num(L, "from_lat", r->last_lat);
        set_num(L, "from_lon", r->last_lon);
        lua_setfield(L, -2, "travel");
    }
}

/* What the decision read, for explain and the decision log: the attributes and the answer. */
static int observe(lua_State *L, const char *entity, size_t len, const args_t *a,
                   const vd_profile_answer_t *r) {
    vd_exec_t *e = vd_lua_ls(L)->exec;
    if (!e || !e->d->observe) return 0;
    msgpack_sbuffer sb;
    msgpack_sbuffer_init(&sb);
    /* Everything the rule's table is made of (push_answer), so that a replay can answer
     * from the record (answer_recorded). */
    vd_mp_map(&sb, 9);
    /* how the rule asked, and when: a replay answers only the same question, and shifts the
     * times by its own clock's difference */
    VD_MP_LIT(&sb, "now");
    vd_mp_int(&sb, e->now_s);
    VD_MP_LIT(&sb, "read_only");
    vd_mp_bool(&sb, a->o.read_only);
    VD_MP_LIT(&sb, "half_life_s");
    vd_mp_int(&sb, a->o.half_life_s);
    VD_MP_LIT(&sb, "asked_place");
    if (a->o.has_place) {
        vd_mp_array(&sb, 2);
        vd_mp_double(&sb, a->o.lat);
        vd_mp_double(&sb, a->o.lon);
    } else {
        vd_mp_nil(&sb);
    }
    VD_MP_LIT(&sb, "events");
    vd_mp_int(&sb, r->events);
    VD_MP_LIT(&sb, "first_seen");
    vd_mp_int(&sb, r->first_seen);
    VD_MP_LIT(&sb, "last_seen");
    vd_mp_int(&sb, r->last_seen);
    VD_MP_LIT(&sb, "attrs");
    vd_mp_map(&sb, (uint32_t)a->n);
    for (size_t k = 0; k < a->n; k++) {
        const vd_profile_seen_t *s = &r->seen[k];
        vd_mp_str(&sb, a->attrs[k].name, a->attrs[k].nlen);
        vd_mp_map(&sb, 6);
        VD_MP_LIT(&sb, "value");
        vd_mp_str(&sb, a->attrs[k].value, a->attrs[k].vlen);
        VD_MP_LIT(&sb, "new");
        vd_mp_bool(&sb, !s->known);
        VD_MP_LIT(&sb, "share");
        vd_mp_double(&sb, s->share);
        VD_MP_LIT(&sb, "count");
        vd_mp_double(&sb, s->count);
        VD_MP_LIT(&sb, "values");
        vd_mp_int(&sb, s->values);
        VD_MP_LIT(&sb, "last_seen");
        vd_mp_int(&sb, s->last_seen);
    }
    VD_MP_LIT(&sb, "place");
    if (r->had_place && a->o.has_place) {
        vd_mp_map(&sb, 5);
        VD_MP_LIT(&sb, "km");
        vd_mp_double(&sb, vd_geo_distance_km(r->last_lat, r->last_lon, a->o.lat, a->o.lon));
        VD_MP_LIT(&sb, "hours");
        vd_mp_double(&sb, (double)(e->now_s - r->last_place_at) / 3600.0);
        VD_MP_LIT(&sb, "from_lat");
        vd_mp_double(&sb, r->last_lat);
        VD_MP_LIT(&sb, "from_lon");
        vd_mp_double(&sb, r->last_lon);
        VD_MP_LIT(&sb, "from_time");
        vd_mp_int(&sb, r->last_place_at);
    } else {
        vd_mp_nil(&sb);
    }
    vd_observed_t o = {.kind = VD_OBS_PROFILE,
                       .name = entity,
                       .len = len,
                       .packed = sb.data ? sb.data : "",
                       .plen = sb.size};
    int rc = sb.data ? vd_decision_observe(e->d, &o) : -1;
    msgpack_sbuffer_destroy(&sb);
    return rc;
}

/* A replay's answer from the record: 1 when the original decision read this entity's profile
 * with the same attributes and the record holds all of its answer (r filled), else 0. The
 * profile is left as it is, as a counter answered from the record is. */
static int answer_recorded(vd_recorded_t *rec, const char *entity, size_t len, const args_t *a,
                           int64_t now, vd_profile_answer_t *r) {
    if (!rec || !rec->state) return 0;
    const vd_observed_t *o = vd_recorded_take(rec, VD_OBS_PROFILE, entity, len, NULL, 0);
    return o && o->packed &&
           vd_profile_from_record(o->packed, o->plen, a->attrs, a->n, &a->o, now, r) == 0;
}

/* A read answered from the record: the event it would have added to the replay's own profile,
 * for the replay to apply in input order (recorded.h). */
static void learn_later(vd_recorded_t *rec, const char *entity, size_t len, const args_t *a,
                        int64_t now) {
    msgpack_packer pk;
    if (a->o.read_only || !vd_recorded_learn_begin(rec, &pk, VD_LEARN_PROFILE, 8, entity, len, now))
        return;
    msgpack_pack_int64(&pk, a->o.half_life_s);
    msgpack_pack_int(&pk, a->o.has_place);
    msgpack_pack_double(&pk, a->o.lat);
    msgpack_pack_double(&pk, a->o.lon);
    msgpack_pack_array(&pk, (uint32_t)a->n);
    for (size_t k = 0; k < a->n; k++) {
        msgpack_pack_array(&pk, 2);
        msgpack_pack_bin_with_body(&pk, a->attrs[k].name, a->attrs[k].nlen);
        msgpack_pack_bin_with_body(&pk, a->attrs[k].value, a->attrs[k].vlen);
    }
}

static int l_profile(lua_State *L) {
    if (lua_type(L, 1) != LUA_TSTRING) return lua_pushnil(L), 1;
    size_t len;
    const char *entity = lua_tolstring(L, 1, &len);
    args_t a = {.n = 0};
    read_attrs(L, 2, &a);
    read_opts(L, 3, &a);
    vd_lstate_t *ls = vd_lua_ls(L);
    vd_exec_t *e = ls->exec;
    vd_recorded_t *rec = e ? e->d->recorded : NULL;
    if (!ls->limits.store) return luaL_error(L, "state (profiles) is not available here");
    int64_t now = e ? e->now_s : vd_clock_now_s(NULL);
    vd_profile_answer_t r;
    int rc = 0;
    if (answer_recorded(rec, entity, len, &a, now, &r)) { /* as the original decision saw it */
        vd_profile_answer_t taught;
        if (!rec->store_forbidden && !a.o.read_only) /* made in order: learnt now (recorded.h) */
            vd_profile_observe(ls->limits.store, entity, len, now, a.attrs, a.n, &a.o, &taught);
        else
            learn_later(rec, entity, len, &a, now);
    } else if (rec && rec->store_forbidden) { /* a replay the record cannot answer: in order */
        rec->missed = 1;
        memset(&r, 0, sizeof r);
    } else {
        rc = vd_profile_observe(ls->limits.store, entity, len, now, a.attrs, a.n, &a.o, &r);
    }
    if (rc)
        return luaL_error(L, "verdict.profile: %s",
                          len > 1024 ? "entity longer than 1024 bytes" : "out of memory");
    if (observe(L, entity, len, &a, &r)) return luaL_error(L, "out of memory");
    push_answer(L, &a, &r, now);
    return 1;
}

/* verdict.country_place(code) -> lat, lon of a country (country_places.h), or nil for a code
 * it does not know (any letter case). */
static int l_country_place(lua_State *L) {
    size_t len;
    const char *code = lua_type(L, 1) == LUA_TSTRING ? lua_tolstring(L, 1, &len) : NULL;
    if (!code || len != 2) return lua_pushnil(L), 1;
    char want[3] = {(char)(code[0] & ~0x20), (char)(code[1] & ~0x20), 0}; /* upper case */
    size_t lo = 0, hi = vd_country_places_n;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        int c = strcmp(vd_country_places[mid].code, want);
        if (c == 0) {
            lua_pushnumber(L, vd_country_places[mid].lat);
            lua_pushnumber(L, vd_country_places[mid].lon);
            return 2;
        }
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lua_pushnil(L), 1;
}

void vd_lua_open_profile(lua_State *L) {
    lua_pushcfunction(L, l_profile);
    lua_setfield(L, -2, "profile");
    lua_pushcfunction(L, l_country_place);
    lua_setfield(L, -2, "country_place");
}
