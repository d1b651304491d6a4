#include "read_case.h"

#include "lines.h"
#include "lua_pack.h"
#include "read_expect.h"

#include <lauxlib.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#define MAX_COUNT     1000000000 /* a counter's window */
#define MAX_DISTINCT  1000000    /* made-up values of a distinct count */
#define MAX_LABEL_TTL ((int64_t)10 * 366 * 86400)
#define MAX_TIME      253402300799 /* 9999-12-31T23:59:59Z */

static const char *const case_keys[] = {"pipeline", "time",     "event",    "before",
                                        "reports",  "counters", "distinct", "labels",
                                        "lists",    "expect",   NULL};

static void *alloc(lua_State *L, vd_ptest_reader_t *r, size_t size) {
    void *p = vd_arena_alloc(&r->suite->arena, size);
    if (!p) vd_ptest_nomem(L);
    memset(p, 0, size);
    return p;
}

/* The table at idx packed as msgpack into the arena; what names it in messages. */
static vd_ptest_blob_t pack_event(lua_State *L, vd_ptest_reader_t *r, int idx, const char *what) {
    if (!lua_istable(L, idx))
        vd_ptest_raise(L, r, 0, "%s: expected a table of fields, got %s", what,
                       luaL_typename(L, idx));
    char err[300];
    msgpack_sbuffer_clear(&r->sb);
    msgpack_packer pk;
    msgpack_packer_init(&pk, &r->sb, msgpack_sbuffer_write);
    if (vd_ptest_pack(L, idx, &pk, err, sizeof err) != 0)
        vd_ptest_raise(L, r, 0, "%s%s%s", what, err[0] == '[' || err[0] == ':' ? "" : ".", err);
    if ((unsigned char)r->sb.data[0] >> 4 != 0x8 && (unsigned char)r->sb.data[0] != 0xde &&
        (unsigned char)r->sb.data[0] != 0xdf) /* fixmap, map 16, map 32 */
        vd_ptest_raise(L, r, 0, "%s: expected named fields ({ ip = \"...\" }), not a list", what);
    char *data = alloc(L, r, r->sb.size);
    memcpy(data, r->sb.data, r->sb.size);
    return (vd_ptest_blob_t){data, r->sb.size};
}

/* The length of the array at idx, raising unless its keys are exactly 1..n. */
static size_t array_len(lua_State *L, const vd_ptest_reader_t *r, int idx, const char *what) {
    if (!lua_istable(L, idx))
        vd_ptest_raise(L, r, 0, "%s: expected a list { ... }, got %s", what, luaL_typename(L, idx));
    size_t n = 0, len = lua_rawlen(L, idx);
    idx = lua_absindex(L, idx);
    lua_pushnil(L);
    while (lua_next(L, idx)) {
        lua_pop(L, 1);
        n++;
        if (!lua_isinteger(L, -1) || lua_tointeger(L, -1) < 1 ||
            (lua_Unsigned)lua_tointeger(L, -1) > len)
            vd_ptest_raise(L, r, 0, "%s: expected a list { ... }, with no named keys", what);
    }
    return n;
}

/* An integer from min to max at idx. */
static int64_t integer(lua_State *L, const vd_ptest_reader_t *r, int idx, int64_t min, int64_t max,
                       const char *what) {
    int ok;
    lua_Integer v = lua_tointegerx(L, idx, &ok);
    if (!ok || v < min || v > max)
        vd_ptest_raise(L, r, 0, "%s: expected a whole number from %lld to %lld", what,
                       (long long)min, (long long)max);
    return v;
}

/* The number written with the n digits at s, or -1 when they are not all digits. */
static int digits(const char *s, int n) {
    int v = 0;
    for (int i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9') return -1;
        v = v * 10 + (s[i] - '0');
    }
    return v;
}

/* "2025-03-01T08:30:00Z" or "2025-03-01" (midnight, UTC) as Unix seconds; -1 otherwise. */
static int64_t parse_time(const char *s) {
    size_t len = strlen(s);
    if ((len != 10 && len != 20) || s[4] != '-' || s[7] != '-') return -1;
    int y = digits(s, 4), mo = digits(s + 5, 2), d = digits(s + 8, 2), h = 0, mi = 0, sec = 0;
    if (len == 20) {
        if (s[10] != 'T' || s[13] != ':' || s[16] != ':' || s[19] != 'Z') return -1;
        h = digits(s + 11, 2), mi = digits(s + 14, 2), sec = digits(s + 17, 2);
    }
    if (y < 1970 || mo < 1 || mo > 12 || d < 1 || d > 31 || h < 0 || h > 23 || mi < 0 || mi > 59 ||
        sec < 0 || sec > 59)
        return -1;
    struct tm tm = {.tm_year = y - 1900,
                    .tm_mon = mo - 1,
                    .tm_mday = d,
                    .tm_hour = h,
                    .tm_min = mi,
                    .tm_sec = sec};
    time_t t = timegm(&tm);
    return tm.tm_mday == d ? (int64_t)t : -1; /* February 30 moved on to March */
}

static void read_time(lua_State *L, vd_ptest_reader_t *r, vd_ptest_case_t *c, int idx) {
    if (lua_type(L, idx) == LUA_TSTRING) {
        if ((c->time = parse_time(lua_tostring(L, idx))) > 0 && c->time <= MAX_TIME) return;
    } else if (lua_isinteger(L, idx) && lua_tointeger(L, idx) > 0 &&
               lua_tointeger(L, idx) <= MAX_TIME) {
        c->time = lua_tointeger(L, idx);
        return;
    }
    vd_ptest_raise(L, r, 0,
                   "time: expected Unix seconds or \"YYYY-MM-DDTHH:MM:SSZ\" (UTC), not '%s'",
                   luaL_tolstring(L, idx, NULL));
}

/* A seed of kind for the key below the value on top; what names the map for messages. */
static vd_ptest_seed_t *new_seed(lua_State *L, vd_ptest_reader_t *r, vd_ptest_case_t *c,
                                 vd_ptest_seed_kind_t kind, const char *what) {
    vd_ptest_seed_t *s = vd_vec_push(&c->seeds, &r->suite->arena, sizeof *s);
    if (!s) vd_ptest_nomem(L);
    s->kind = kind;
    s->key = vd_ptest_string(L, r, -2, what, &s->keylen);
    return s;
}

/* counters = { [key] = n } (n in each window), or { minute = m, hour = h, day = d }. */
static void read_counter(lua_State *L, vd_ptest_reader_t *r, vd_ptest_case_t *c) {
    vd_ptest_seed_t *s = new_seed(L, r, c, VD_PTEST_COUNTER, "counters: a key");
    char what[300];
    snprintf(what, sizeof what, "counters['%s']", s->key);
    if (!lua_istable(L, -1)) {
        int64_t n = integer(L, r, -1, 0, MAX_COUNT, what);
        for (int w = 0; w < VD_PTEST_WINDOWS; w++)
            s->counts[w] = n;
        return;
    }
    static const char *const windows[] = {"minute", "hour", "day", NULL};
    vd_ptest_check_keys(L, r, -1, what, windows);
    int64_t below = 0; /* a window holds what the shorter ones hold */
    for (int w = 0; w < VD_PTEST_WINDOWS; w++) {
        lua_getfield(L, -1, windows[w]);
        s->counts[w] = lua_isnil(L, -1) ? below : integer(L, r, -1, 0, MAX_COUNT, what);
        lua_pop(L, 1);
        if (w > 0 && s->counts[w] < below)
            vd_ptest_raise(L, r, 0, "%s: %s is %lld, less than the %s's %lld", what, windows[w],
                           (long long)s->counts[w], windows[w - 1], (long long)below);
        below = s->counts[w];
    }
}

/* distinct = { [key] = n } (n made-up values), or a list of the values. */
static void read_distinct(lua_State *L, vd_ptest_reader_t *r, vd_ptest_case_t *c) {
    vd_ptest_seed_t *s = new_seed(L, r, c, VD_PTEST_DISTINCT, "distinct: a key");
    char what[300];
    snprintf(what, sizeof what, "distinct['%s']", s->key);
    if (!lua_istable(L, -1)) {
        s->n = integer(L, r, -1, 0, MAX_DISTINCT, what);
        return;
    }
    s->nvalues = array_len(L, r, -1, what);
    s->values = alloc(L, r, (s->nvalues + 1) * sizeof *s->values);
    s->lens = alloc(L, r, (s->nvalues + 1) * sizeof *s->lens);
    for (size_t i = 0; i < s->nvalues; i++) {
        lua_geti(L, -1, (lua_Integer)i + 1);
        if (lua_isinteger(L, -1)) lua_tostring(L, -1); /* as tostring(n), which rules pass */
        s->values[i] = vd_ptest_string(L, r, -1, what, &s->lens[i]);
        lua_pop(L, 1);
    }
}

/* labels = { [key] = seconds left }, or true for a day. */
static void read_label(lua_State *L, vd_ptest_reader_t *r, vd_ptest_case_t *c) {
    vd_ptest_seed_t *s = new_seed(L, r, c, VD_PTEST_LABEL, "labels: a key");
    char what[300];
    snprintf(what, sizeof what, "labels['%s']", s->key);
    s->n = lua_isboolean(L, -1) && lua_toboolean(L, -1) ? 86400
                                                        : integer(L, r, -1, 1, MAX_LABEL_TTL, what);
}

/* lists = { [path] = { add = { ... } } or { replace = { ... } } }. */
static void read_list(lua_State *L, vd_ptest_reader_t *r, vd_ptest_case_t *c) {
    vd_ptest_list_t *l = vd_vec_push(&c->lists, &r->suite->arena, sizeof *l);
    if (!l) vd_ptest_nomem(L);
    l->path = vd_ptest_string(L, r, -2, "lists: the path of a list", NULL);
    char what[300];
    snprintf(what, sizeof what, "lists['%s']", l->path);
    if (l->path[0] == '/' || strstr(l->path, ".."))
        vd_ptest_raise(L, r, 0, "%s: a list file is named by its path in the policy directory",
                       what);
    static const char *const how[] = {"add", "replace", NULL};
    if (!lua_istable(L, -1))
        vd_ptest_raise(L, r, 0, "%s: expected { add = { ... } } or { replace = { ... } }", what);
    vd_ptest_check_keys(L, r, -1, what, how);
    lua_getfield(L, -1, "add");
    lua_getfield(L, -2, "replace");
    l->replace = !lua_isnil(L, -1);
    if (lua_isnil(L, -1) == lua_isnil(L, -2))
        vd_ptest_raise(L, r, 0, "%s: give either add or replace", what);
    int at = l->replace ? -1 : -2;
    l->nentries = array_len(L, r, at, what);
    l->entries = alloc(L, r, (l->nentries + 1) * sizeof *l->entries);
    for (size_t i = 0; i < l->nentries; i++) {
        lua_geti(L, at, (lua_Integer)i + 1);
        l->entries[i] = vd_ptest_string(L, r, -1, what, NULL);
        if (strchr(l->entries[i], '\n'))
            vd_ptest_raise(L, r, 0, "%s: an entry holds a line break", what);
        lua_pop(L, 1);
    }
    lua_pop(L, 2);
}

/* Calls each for every key and value of the map at idx (the value on top, the key below). */
static void each_entry(lua_State *L, vd_ptest_reader_t *r, vd_ptest_case_t *c, int idx,
                       const char *what,
                       void (*each)(lua_State *, vd_ptest_reader_t *, vd_ptest_case_t *)) {
    if (!lua_istable(L, idx))
        vd_ptest_raise(L, r, 0, "%s: expected a table, got %s", what, luaL_typename(L, idx));
    idx = lua_absindex(L, idx);
    lua_pushnil(L);
    while (lua_next(L, idx)) {
        each(L, r, c);
        lua_pop(L, 1);
    }
}

static void read_before(lua_State *L, vd_ptest_reader_t *r, vd_ptest_case_t *c, int idx) {
    size_t n = array_len(L, r, idx, "before");
    for (size_t i = 0; i < n; i++) {
        char what[32];
        snprintf(what, sizeof what, "before[%zu]", i + 1);
        lua_geti(L, idx, (lua_Integer)i + 1);
        vd_ptest_before_t *b = vd_vec_push(&c->before, &r->suite->arena, sizeof *b);
        if (!b) vd_ptest_nomem(L);
        if (vd_ptest_ago(L, -1, &b->ago)) lua_remove(L, -2); /* ago(seconds, event) */
        b->event = pack_event(L, r, -1, what);
        lua_pop(L, 1);
    }
}

/* reports = { { label = "bad", event = { ... }, reporter = "ann", weight = 1 }, ... } */
static void read_reports(lua_State *L, vd_ptest_reader_t *r, vd_ptest_case_t *c, int idx) {
    static const char *const keys[] = {"label", "event", "reporter", "weight", NULL};
    size_t n = array_len(L, r, idx, "reports");
    for (size_t i = 0; i < n; i++) {
        char what[32];
        snprintf(what, sizeof what, "reports[%zu]", i + 1);
        lua_geti(L, idx, (lua_Integer)i + 1);
        int at = lua_gettop(L);
        if (!lua_istable(L, at))
            vd_ptest_raise(L, r, 0, "%s: expected { label = \"bad\", event = { ... } }, got %s",
                           what, luaL_typename(L, at));
        vd_ptest_check_keys(L, r, at, what, keys);
        vd_ptest_report_t *rep = vd_vec_push(&c->reports, &r->suite->arena, sizeof *rep);
        if (!rep) vd_ptest_nomem(L);
        rep->weight = 1;
        const char *label = vd_ptest_field(L, at, "label") ? lua_tostring(L, -1) : NULL;
        if (!label || (strcmp(label, "bad") != 0 && strcmp(label, "good") != 0))
            vd_ptest_raise(L, r, 0, "%s.label: expected \"bad\" (spam, abusive) or \"good\"", what);
        rep->bad = strcmp(label, "bad") == 0;
        lua_settop(L, at);
        if (!vd_ptest_field(L, at, "event"))
            vd_ptest_raise(L, r, 0, "%s: no event: the event reported", what);
        char sub[48];
        snprintf(sub, sizeof sub, "%s.event", what);
        rep->event = pack_event(L, r, -1, sub);
        lua_settop(L, at);
        if (vd_ptest_field(L, at, "reporter")) { /* as the report method takes it */
            snprintf(sub, sizeof sub, "%s.reporter", what);
            rep->reporter = vd_ptest_string(L, r, -1, sub, &rep->reporter_len);
            if (rep->reporter_len == 0 || rep->reporter_len > 256)
                vd_ptest_raise(L, r, 0, "%s: expected a name of 1 to 256 bytes", sub);
        }
        lua_settop(L, at);
        if (vd_ptest_field(L, at, "weight")) {
            rep->weight = lua_tonumber(L, -1);
            if (lua_type(L, -1) != LUA_TNUMBER || !(rep->weight > 0 && rep->weight <= 100))
                vd_ptest_raise(L, r, 0, "%s.weight: expected a number above 0, at most 100", what);
        }
        lua_settop(L, at - 1);
    }
}

/* Pushes the case's key and returns 1 when it is given (else 0, nothing pushed); an error
 * from here on names the key's line. */
static int key(lua_State *L, vd_ptest_reader_t *r, int idx, const char *name) {
    lua_settop(L, idx);
    r->key = name;
    return vd_ptest_field(L, idx, name);
}

void vd_ptest_read_case(lua_State *L, vd_ptest_reader_t *r, vd_ptest_case_t *c, int idx) {
    idx = lua_absindex(L, idx);
    vd_ptest_check_keys(L, r, idx, "", case_keys);
    c->time = VD_PTEST_DEFAULT_TIME;
    c->pipeline = r->default_pipeline;
    c->pipeline_from_file = 1;
    if (key(L, r, idx, "pipeline")) {
        c->pipeline = vd_ptest_string(L, r, -1, "pipeline", NULL);
        c->pipeline_from_file = 0;
    }
    if (key(L, r, idx, "time")) read_time(L, r, c, -1);
    if (!key(L, r, idx, "event"))
        vd_ptest_raise(L, r, 0, "no event: event = { field = value, ... } is what is decided");
    c->event = pack_event(L, r, -1, "event");
    if (key(L, r, idx, "before")) read_before(L, r, c, lua_gettop(L));
    if (key(L, r, idx, "reports")) read_reports(L, r, c, lua_gettop(L));
    if (key(L, r, idx, "counters")) each_entry(L, r, c, -1, "counters", read_counter);
    if (key(L, r, idx, "distinct")) each_entry(L, r, c, -1, "distinct", read_distinct);
    if (key(L, r, idx, "labels")) each_entry(L, r, c, -1, "labels", read_label);
    if (key(L, r, idx, "lists")) each_entry(L, r, c, -1, "lists", read_list);
    if (!key(L, r, idx, "expect"))
        vd_ptest_raise(L, r, 0, "no expect: expect = { action = ..., ... } says what to check");
    if (!lua_istable(L, -1))
        vd_ptest_raise(L, r, 0, "expect: expected a table, got %s", luaL_typename(L, -1));
    vd_ptest_read_expect(L, r, &c->expect, lua_gettop(L));
    lua_settop(L, idx);
    r->key = NULL;
    if (!c->pipeline)
        vd_ptest_raise(L, r, 0,
                       "no pipeline: give pipeline = \"...\", or name the file "
                       "after the pipeline (signup_test.lua)");
}

void vd_ptest_locate_case(const vd_ptest_reader_t *r, vd_ptest_case_t *c, int to) {
    int from = c->line;
    c->pipeline_line = vd_ptest_key_line(r, from, to, "pipeline", from);
    int lists = vd_ptest_key_line(r, from, to, "lists", from);
    for (uint32_t i = 0; i < c->lists.len; i++) {
        vd_ptest_list_t *l = &VD_VEC_AT(c->lists, vd_ptest_list_t, i);
        int at = vd_ptest_line_of_string(r->src, r->len, lists, to, l->path);
        l->line = at ? at : lists;
    }
    vd_ptest_locate_expect(r, &c->expect, from, to);
}
