#include "schema.h"

#include "base/error.h"
#include "base/suggest.h"

#include <lauxlib.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const type_names[] = {
#define VD_FIELD_NAME(e, name, what) name,
    VD_FIELD_TYPES(VD_FIELD_NAME)
#undef VD_FIELD_NAME
};

static const char *const type_whats[] = {
#define VD_FIELD_WHAT(e, name, what) what,
    VD_FIELD_TYPES(VD_FIELD_WHAT)
#undef VD_FIELD_WHAT
};

const char *vd_field_type_name(vd_field_type_t t) {
    return t < VD_FIELD__COUNT ? type_names[t] : "?";
}

const char *vd_field_type_what(vd_field_type_t t) {
    return t < VD_FIELD__COUNT ? type_whats[t] : "?";
}

static int compare(const char *a, size_t alen, const char *b, size_t blen) {
    int c = memcmp(a, b, alen < blen ? alen : blen);
    return c ? c : (alen > blen) - (alen < blen);
}

static int by_name(const void *x, const void *y) {
    const vd_schema_field_t *a = x, *b = y;
    return compare(a->name, a->len, b->name, b->len);
}

const vd_schema_field_t *vd_schema_find(const vd_schema_t *s, const char *name, size_t len) {
    size_t lo = 0, hi = s->n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int c = compare(name, len, s->fields[mid].name, s->fields[mid].len);
        if (c == 0) return &s->fields[mid];
        if (c < 0)
            hi = mid;
        else
            lo = mid + 1;
    }
    return NULL;
}

/* The type written as spec ("number" or "number?"), or -1 with a complaint in err. */
static int parse_type(const char *spec, size_t len, int *optional, char *err, size_t errlen) {
    *optional = len > 0 && spec[len - 1] == '?';
    size_t n = len - (size_t)*optional;
    for (int t = 0; t < VD_FIELD__COUNT; t++)
        if (strlen(type_names[t]) == n && memcmp(type_names[t], spec, n) == 0) return t;
    char known[200] = "", word[VD_SUGGEST_MAX + 1];
    snprintf(word, sizeof word, "%.*s", (int)(n < VD_SUGGEST_MAX ? n : VD_SUGGEST_MAX), spec);
    vd_suggest_t sg;
    vd_suggest_init(&sg, word);
    for (int t = 0; t < VD_FIELD__COUNT; t++) {
        snprintf(known + strlen(known), sizeof known - strlen(known), "%s%s", t ? ", " : "",
                 type_names[t]);
        vd_suggest_offer(&sg, type_names[t]);
    }
    char hint[VD_SUGGEST_HINT];
    snprintf(err, errlen,
             "unknown type '%s' (%sknown types: %s, with a '?' after it when the field may be "
             "missing)",
             word, vd_suggest_hint(&sg, "did you mean '%s'? ", hint, sizeof hint), known);
    return -1;
}

/* One `name = "type"` entry: the key and value at the top of the stack. */
static int compile_field(lua_State *L, vd_schema_field_t *f, const char **field, char *err,
                         size_t errlen) {
    *field = NULL;
    if (lua_type(L, -2) != LUA_TSTRING) {
        snprintf(err, errlen,
                 "fields must map event field names to types, like "
                 "fields = { ip = \"ip\", email = \"string\" }");
        return VD_EPOLICY;
    }
    *field = lua_tostring(L, -2);
    size_t nlen, tlen;
    const char *name = lua_tolstring(L, -2, &nlen);
    if (nlen == 0) {
        snprintf(err, errlen, "fields: a field name must not be empty");
        return VD_EPOLICY;
    }
    if (lua_type(L, -1) != LUA_TSTRING) {
        snprintf(err, errlen,
                 "fields.%s must be a type name as a string (\"string\", \"number?\", "
                 "...), not a %s",
                 name, luaL_typename(L, -1));
        return VD_EPOLICY;
    }
    const char *spec = lua_tolstring(L, -1, &tlen);
    char why[400];
    int t = parse_type(spec, tlen, &f->optional, why, sizeof why);
    if (t < 0) {
        snprintf(err, errlen, "fields.%s: %s", name, why);
        return VD_EPOLICY;
    }
    f->type = (vd_field_type_t)t;
    if (!(f->name = malloc(nlen + 1))) return VD_ENOMEM;
    memcpy(f->name, name, nlen + 1);
    f->len = nlen;
    return 0;
}

int vd_schema_compile(lua_State *L, int idx, vd_schema_t *out, const char **field, char *err,
                      size_t errlen) {
    idx = lua_absindex(L, idx);
    memset(out, 0, sizeof *out);
    *field = NULL;
    if (!(out->fields = calloc(VD_SCHEMA_MAX_FIELDS, sizeof *out->fields))) return VD_ENOMEM;
    lua_pushnil(L);
    while (lua_next(L, idx)) {
        int rc = out->n == VD_SCHEMA_MAX_FIELDS ? VD_EPOLICY : 0;
        if (rc)
            snprintf(err, errlen, "fields names more than %d event fields", VD_SCHEMA_MAX_FIELDS);
        else
            rc = compile_field(L, &out->fields[out->n], field, err, errlen);
        if (rc) {
            lua_pop(L, 2);
            return rc;
        }
        out->n++;
        lua_pop(L, 1);
    }
    qsort(out->fields, out->n, sizeof *out->fields, by_name);
    *field = NULL;
    return 0;
}

void vd_schema_free(vd_schema_t *s) {
    for (size_t i = 0; i < s->n; i++)
        free(s->fields[i].name);
    free(s->fields);
    s->fields = NULL;
    s->n = 0;
}
