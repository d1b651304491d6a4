/* IP helpers for rules: verdict.ip (canonical form), verdict.ip_prefix (the network an address
 * belongs to, for grouping) and verdict.cidrs (a set of networks, longest prefix first). */
#include "lua_ip.h"
#include "base/ipaddr.h"
#include "state.h"

#include <lauxlib.h>
#include <stdlib.h>
#include <string.h>

typedef struct cidrs {
    size_t n;
    vd_cidr_t nets[]; /* sorted by prefix length, longest first */
} cidrs_t;

static int opt_ip(lua_State *L, int idx, vd_ip_t *ip) {
    size_t len;
    if (lua_type(L, idx) != LUA_TSTRING) return 0;
    const char *s = lua_tolstring(L, idx, &len);
    return vd_ip_parse(s, len, ip) == 0;
}

/* The last address verdict.ip was given, and its answer: rules of one request ask about the
 * same address several times. A pure function's memory: nothing of a request is kept. */
typedef struct ip_memo {
    char in[64], out[64];
    size_t in_len, out_len;
    int version; /* 0: empty, or not an address */
} ip_memo_t;

/* verdict.ip(s) -> canonical address text and version (4 or 6), or nil when s is not an IP
 * address. Upvalue 1: the memo. */
static int ip_canon(lua_State *L) {
    ip_memo_t *m = lua_touserdata(L, lua_upvalueindex(1));
    size_t len;
    if (lua_type(L, 1) != LUA_TSTRING) return lua_pushnil(L), 1;
    const char *s = lua_tolstring(L, 1, &len);
    if (!(m->version && len == m->in_len && memcmp(s, m->in, len) == 0)) {
        vd_ip_t ip;
        m->version = 0;
        if (len >= sizeof m->in || vd_ip_parse(s, len, &ip) != 0) return lua_pushnil(L), 1;
        m->out_len = vd_ip_format(&ip, m->out, sizeof m->out);
        memcpy(m->in, s, len);
        m->in_len = len;
        m->version = ip.v4 ? 4 : 6;
    }
    if (m->out_len == len && memcmp(m->out, s, len) == 0)
        lua_pushvalue(L, 1); /* already canonical: the same string, nothing to intern */
    else
        lua_pushlstring(L, m->out, m->out_len);
    lua_pushinteger(L, m->version);
    return 2;
}

/* verdict.ip_prefix(ip, bits) -> "203.0.113.0/24", or nil when ip is not an address */
static int ip_prefix(lua_State *L) {
    vd_ip_t ip;
    lua_Integer bits = luaL_checkinteger(L, 2);
    if (!opt_ip(L, 1, &ip)) return lua_pushnil(L), 1;
    if (bits < 0 || bits > (ip.v4 ? 32 : 128))
        return luaL_argerror(L, 2, "prefix length out of range");
    char buf[80];
    vd_cidr_t c;
    vd_cidr_of(&ip, (int)bits, &c);
    lua_pushlstring(L, buf, vd_cidr_format(&c, buf, sizeof buf));
    return 1;
}

static int by_length_desc(const void *a, const void *b) {
    return ((const vd_cidr_t *)b)->bits - ((const vd_cidr_t *)a)->bits;
}

/* verdict.cidrs{"10.0.0.0/8", "2001:db8::/32", ...} -> a network set */
static int cidrs_new(lua_State *L) {
    luaL_checktype(L, 1, LUA_TTABLE);
    lua_Integer n = luaL_len(L, 1); /* a __len may say anything: bounded before sizing */
    if (n < 0 || n > (1 << 24)) return luaL_error(L, "verdict.cidrs: too many entries");
    cidrs_t *set = lua_newuserdatauv(L, sizeof *set + (size_t)n * sizeof(vd_cidr_t), 0);
    set->n = 0;
    for (lua_Integer i = 1; i <= n; i++) {
        size_t len;
        lua_geti(L, 1, i);
        const char *s = lua_tolstring(L, -1, &len);
        if (!s || vd_cidr_parse(s, len, &set->nets[set->n]) != 0)
            return luaL_error(L, "verdict.cidrs: entry %d is not a network or address: %s", (int)i,
                              s ? s : luaL_typename(L, -1));
        set->n++;
        lua_pop(L, 1);
    }
    qsort(set->nets, set->n, sizeof *set->nets, by_length_desc);
    vd_udata_set(L, VD_UDATA_CIDRS);
    return 1;
}

static const vd_cidr_t *longest(const cidrs_t *set, const vd_ip_t *ip) {
    for (size_t i = 0; i < set->n; i++)
        if (vd_cidr_contains(&set->nets[i], ip)) return &set->nets[i];
    return NULL;
}

static const vd_cidr_t *lookup(lua_State *L) {
    const cidrs_t *set = vd_udata_check(L, 1, VD_UDATA_CIDRS);
    vd_ip_t ip;
    if (!opt_ip(L, 2, &ip)) return NULL;
    return longest(set, &ip);
}

int vd_lua_cidrs_contains(const void *cidrs_ud, const char *s, size_t len) {
    vd_ip_t ip;
    return vd_ip_parse(s, len, &ip) == 0 && longest(cidrs_ud, &ip) != NULL;
}

/* set:has(ip) -> true when ip lies in one of the networks */
static int cidrs_has(lua_State *L) {
    lua_pushboolean(L, lookup(L) != NULL);
    return 1;
}

/* set:match(ip) -> the longest matching network as text, or nil */
static int cidrs_match(lua_State *L) {
    const vd_cidr_t *c = lookup(L);
    if (!c) return lua_pushnil(L), 1;
    char buf[80];
    vd_cidr_format(c, buf, sizeof buf);
    lua_pushstring(L, buf);
    return 1;
}

void vd_lua_open_ip(lua_State *L) {
    static const luaL_Reg methods[] = {{"has", cidrs_has}, {"match", cidrs_match}, {NULL, NULL}};
    vd_udata_newtype(L, VD_UDATA_CIDRS);
    luaL_newlib(L, methods);
    lua_setfield(L, -2, "__index");
    lua_pop(L, 1);
    static const luaL_Reg fns[] = {{"ip_prefix", ip_prefix}, {"cidrs", cidrs_new}, {NULL, NULL}};
    luaL_setfuncs(L, fns, 0);
    ip_memo_t *memo = lua_newuserdatauv(L, sizeof *memo, 0);
    memset(memo, 0, sizeof *memo);
    lua_pushcclosure(L, ip_canon, 1);
    lua_setfield(L, -2, "ip");
}
