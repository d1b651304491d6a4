#include "lua_when.h"

#include "lua_ctx.h"
#include "lua_helpers.h"
#include "lua_ip.h"
#include "lua_lists.h"
#include "lua_re.h"
#include "lua_sets.h"
#include "lua_view.h"
#include "proto/rpc.h"
#include "state.h"
#include "state/list.h"

#include <lauxlib.h>
#include <string.h>

typedef enum { MATCHES, IS_IN, EMAIL_DOMAIN_IN } cond_kind_t;

struct vd_cond {
    cond_kind_t kind;
    int (*contains)(const void *target, const char *s, size_t len); /* IS_IN, EMAIL_DOMAIN_IN */
    const void *target; /* the regex or set; its userdata is the condition's user value */
    size_t flen;
    char field[256];
};

typedef struct vd_cond vd_cond_t;

const vd_cond_t *vd_lua_to_cond(lua_State *L, int idx) {
    return vd_udata_test(L, idx, VD_UDATA_COND);
}

/* Explain: what the condition looked up in its list or set, and whether it was there. */
static int noted(lua_State *L, const vd_cond_t *c, const char *s, size_t len, int hit) {
    const char *in = c->contains == vd_lua_list_contains ? vd_list_path(c->target) : "a set";
    vd_lua_note_lookup(L, in, s, len, hit, NULL, 0);
    return hit;
}

int vd_lua_cond_eval(lua_State *L, int idx, const msgpack_object *event, char *buf, size_t cap,
                     const char **detail, size_t *dlen, char *err, size_t errlen) {
    const vd_cond_t *c = lua_touserdata(L, idx);
    const msgpack_object *v = vd_rpc_map_get(event, c->field, c->flen, 0);
    *detail = NULL;
    *dlen = 0;
    if (!v || (v->type != MSGPACK_OBJECT_STR && v->type != MSGPACK_OBJECT_BIN)) return 0;
    const char *s = v->type == MSGPACK_OBJECT_STR ? v->via.str.ptr : v->via.bin.ptr;
    size_t len = v->type == MSGPACK_OBJECT_STR ? v->via.str.size : v->via.bin.size;
    switch (c->kind) {
    case MATCHES:
        return vd_lua_re_find(L, c->target, s, len, detail, dlen, err, errlen);
    case IS_IN:
        if (!noted(L, c, s, len, c->contains(c->target, s, len))) return 0;
        *detail = s;
        *dlen = len;
        return 1;
    case EMAIL_DOMAIN_IN: {
        size_t n = vd_email_domain(s, len, buf, cap);
        if (!n || !noted(L, c, buf, n, c->contains(c->target, buf, n))) return 0;
        *detail = buf;
        *dlen = n;
        return 1;
    }
    }
    return 0;
}

/* Called from Lua, as a when function: cond(ev) -> hit, detail */
static int cond_call(lua_State *L) {
    const msgpack_object *ev = vd_lua_to_view(L, 2);
    if (!ev || ev->type != MSGPACK_OBJECT_MAP)
        return luaL_error(L, "a verdict.when condition is called with the event");
    char buf[256], err[256];
    const char *detail;
    size_t dlen;
    int hit = vd_lua_cond_eval(L, 1, ev, buf, sizeof buf, &detail, &dlen, err, sizeof err);
    if (hit < 0) return luaL_error(L, "%s", err);
    lua_pushboolean(L, hit);
    if (hit && detail)
        lua_pushlstring(L, detail, dlen);
    else
        lua_pushnil(L);
    return 2;
}

/* The (field, target) arguments of a builder: a new condition on the stack, target kept. */
static vd_cond_t *new_cond(lua_State *L, cond_kind_t kind, const char *name) {
    size_t flen;
    const char *field = luaL_checklstring(L, 1, &flen);
    luaL_argcheck(L, flen > 0 && flen < sizeof((vd_cond_t *)0)->field, 1,
                  "a field name of 1 to 255 bytes");
    luaL_checkany(L, 2);
    vd_cond_t *c = vd_udata_new(L, VD_UDATA_COND, sizeof *c, 1);
    memset(c, 0, sizeof *c);
    c->kind = kind;
    memcpy(c->field, field, flen);
    c->flen = flen;
    lua_pushvalue(L, 2);
    lua_setiuservalue(L, -2, 1);
    if (kind == MATCHES) {
        if (!(c->target = vd_udata_test(L, 2, VD_UDATA_RE)))
            luaL_error(L, "verdict.when.%s(field, re): re must be a verdict.re", name);
        return c;
    }
    if ((c->target = vd_udata_test(L, 2, VD_UDATA_SET)))
        c->contains = vd_lua_set_contains;
    else if ((c->target = vd_udata_test(L, 2, VD_UDATA_LIST)))
        c->contains = vd_lua_list_contains;
    else if (kind == IS_IN && (c->target = vd_udata_test(L, 2, VD_UDATA_CIDRS)))
        c->contains = vd_lua_cidrs_contains;
    else
        luaL_error(L,
                   "verdict.when.%s(field, set): set must be a verdict.set, verdict.domains, "
                   "verdict.list%s",
                   name, kind == IS_IN ? " or verdict.cidrs" : "");
    return c;
}

/* verdict.when.matches(field, re): the field matches; the detail is re:match's first value */
static int when_matches(lua_State *L) {
    new_cond(L, MATCHES, "matches");
    return 1;
}

/* verdict.when.is_in(field, set): the field is in the set; the detail is the field */
static int when_is_in(lua_State *L) {
    new_cond(L, IS_IN, "is_in");
    return 1;
}

/* verdict.when.email_domain_in(field, set): the domain of the address in the field is in the
 * set; the detail is the domain */
static int when_email_domain_in(lua_State *L) {
    new_cond(L, EMAIL_DOMAIN_IN, "email_domain_in");
    return 1;
}

void vd_lua_open_when(lua_State *L) {
    vd_udata_newtype(L, VD_UDATA_COND);
    lua_pushcfunction(L, cond_call);
    lua_setfield(L, -2, "__call");
    lua_pop(L, 1);
    static const luaL_Reg fns[] = {{"matches", when_matches},
                                   {"is_in", when_is_in},
                                   {"email_domain_in", when_email_domain_in},
                                   {NULL, NULL}};
    luaL_newlib(L, fns);
    lua_setfield(L, -2, "when");
}
