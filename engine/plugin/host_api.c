/* The host API table: what plugins call. Request data is read straight from the msgpack
 * event (values are msgpack objects behind an opaque type); outputs are buffered in the call
 * and applied by the worker, so a plugin thread never touches a decision. */
#include "host_api.h"

#include "base/clock.h"
#include "base/log.h"
#include "call.h"
#include "host_behaviour.h"
#include "host_campaign.h"
#include "host_state.h"
#include "proto/rpc.h"
#include "registry.h"
#include "setup.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <xxhash.h>

#define OBJ(v) ((const msgpack_object *)(v))
#define VAL(o) ((const vd_plugin_value_t *)(o))

static void host_log(vd_plugin_log_level_t level, const char *plugin, const char *message) {
    static const vd_log_level_t map[] = {VD_LOG_DEBUG, VD_LOG_INFO, VD_LOG_WARN, VD_LOG_ERROR};
    vd_log(map[(unsigned)level <= VD_PLUGIN_LOG_ERROR ? level : VD_PLUGIN_LOG_ERROR],
           "plugin %s: %s", plugin ? plugin : "?", message ? message : "");
}

/* ---- values ---- */

static vd_plugin_type_t value_type(const vd_plugin_value_t *v) {
    if (!v) return VD_PLUGIN_NONE;
    switch (OBJ(v)->type) {
    case MSGPACK_OBJECT_NIL:
        return VD_PLUGIN_NIL;
    case MSGPACK_OBJECT_BOOLEAN:
        return VD_PLUGIN_BOOL;
    case MSGPACK_OBJECT_POSITIVE_INTEGER:
    case MSGPACK_OBJECT_NEGATIVE_INTEGER:
        return VD_PLUGIN_INT;
    case MSGPACK_OBJECT_FLOAT32:
    case MSGPACK_OBJECT_FLOAT64:
        return VD_PLUGIN_FLOAT;
    case MSGPACK_OBJECT_STR:
    case MSGPACK_OBJECT_BIN:
        return VD_PLUGIN_STRING;
    case MSGPACK_OBJECT_ARRAY:
        return VD_PLUGIN_ARRAY;
    case MSGPACK_OBJECT_MAP:
        return VD_PLUGIN_MAP;
    default:
        return VD_PLUGIN_NIL;
    }
}

static int value_string(const vd_plugin_value_t *v, const char **ptr, size_t *len) {
    if (!v) return VD_PLUGIN_NOTFOUND;
    const msgpack_object *o = OBJ(v);
    if (o->type == MSGPACK_OBJECT_STR)
        *ptr = o->via.str.ptr, *len = o->via.str.size;
    else if (o->type == MSGPACK_OBJECT_BIN)
        *ptr = o->via.bin.ptr, *len = o->via.bin.size;
    else
        return VD_PLUGIN_WRONGTYPE;
    return VD_PLUGIN_OK;
}

static int value_int(const vd_plugin_value_t *v, int64_t *out) {
    if (!v) return VD_PLUGIN_NOTFOUND;
    const msgpack_object *o = OBJ(v);
    if (o->type == MSGPACK_OBJECT_NEGATIVE_INTEGER)
        *out = o->via.i64;
    else if (o->type == MSGPACK_OBJECT_POSITIVE_INTEGER && o->via.u64 <= INT64_MAX)
        *out = (int64_t)o->via.u64;
    else
        return VD_PLUGIN_WRONGTYPE;
    return VD_PLUGIN_OK;
}

static int value_float(const vd_plugin_value_t *v, double *out) {
    if (!v) return VD_PLUGIN_NOTFOUND;
    const msgpack_object *o = OBJ(v);
    if (o->type == MSGPACK_OBJECT_FLOAT32 || o->type == MSGPACK_OBJECT_FLOAT64)
        *out = o->via.f64;
    else if (o->type == MSGPACK_OBJECT_POSITIVE_INTEGER)
        *out = (double)o->via.u64;
    else if (o->type == MSGPACK_OBJECT_NEGATIVE_INTEGER)
        *out = (double)o->via.i64;
    else
        return VD_PLUGIN_WRONGTYPE;
    return VD_PLUGIN_OK;
}

static int value_bool(const vd_plugin_value_t *v, int *out) {
    if (!v) return VD_PLUGIN_NOTFOUND;
    if (OBJ(v)->type != MSGPACK_OBJECT_BOOLEAN) return VD_PLUGIN_WRONGTYPE;
    *out = OBJ(v)->via.boolean;
    return VD_PLUGIN_OK;
}

static size_t value_len(const vd_plugin_value_t *v) {
    if (!v) return 0;
    if (OBJ(v)->type == MSGPACK_OBJECT_ARRAY) return OBJ(v)->via.array.size;
    if (OBJ(v)->type == MSGPACK_OBJECT_MAP) return OBJ(v)->via.map.size;
    return 0;
}

static const vd_plugin_value_t *value_at(const vd_plugin_value_t *v, size_t i) {
    if (i >= value_len(v)) return NULL;
    if (OBJ(v)->type == MSGPACK_OBJECT_ARRAY) return VAL(&OBJ(v)->via.array.ptr[i]);
    return VAL(&OBJ(v)->via.map.ptr[i].val);
}

static const vd_plugin_value_t *value_key_at(const vd_plugin_value_t *v, size_t i) {
    if (!v || OBJ(v)->type != MSGPACK_OBJECT_MAP || i >= OBJ(v)->via.map.size) return NULL;
    return VAL(&OBJ(v)->via.map.ptr[i].key);
}

static const vd_plugin_value_t *value_get(const vd_plugin_value_t *map, const char *key,
                                          size_t len) {
    return map && key ? VAL(vd_rpc_map_get(OBJ(map), key, len, 0)) : NULL;
}

/* ---- event fields: resolved on first use in each call, by walking the dotted path ---- */

static const vd_plugin_value_t *field_value(vd_plugin_call_t *c, vd_plugin_field_t f) {
    if (!c || f == 0 || f > c->ps->nfields) return NULL;
    if (!c->field_done[f - 1]) {
        const msgpack_object *o = c->event;
        const char *p = c->ps->fields[f - 1];
        while (o && *p) {
            const char *dot = strchr(p, '.');
            size_t n = dot ? (size_t)(dot - p) : strlen(p);
            o = vd_rpc_map_get(o, p, n, 0);
            p += n + (dot != NULL);
        }
        c->field_cache[f - 1] = o;
        c->field_done[f - 1] = 1;
    }
    return VAL(c->field_cache[f - 1]);
}

static vd_plugin_type_t field_type(vd_plugin_call_t *c, vd_plugin_field_t f) {
    return value_type(field_value(c, f));
}

static int field_string(vd_plugin_call_t *c, vd_plugin_field_t f, const char **p, size_t *n) {
    return value_string(field_value(c, f), p, n);
}

static int field_int(vd_plugin_call_t *c, vd_plugin_field_t f, int64_t *out) {
    return value_int(field_value(c, f), out);
}

static int field_float(vd_plugin_call_t *c, vd_plugin_field_t f, double *out) {
    return value_float(field_value(c, f), out);
}

static int field_bool(vd_plugin_call_t *c, vd_plugin_field_t f, int *out) {
    return value_bool(field_value(c, f), out);
}

/* ---- features ---- */

static const vd_value_t *feature(vd_plugin_call_t *c, vd_plugin_feature_t f) {
    if (!c || f == 0 || f > c->ps->nfeatures) return NULL;
    const char *name = c->ps->features[f - 1];
    const vd_feature_t *hit = vd_decision_feature(c->d, name, strlen(name), c->shadow);
    return hit ? &hit->value : NULL;
}

static vd_plugin_type_t feature_type(vd_plugin_call_t *c, vd_plugin_feature_t f) {
    const vd_value_t *v = feature(c, f);
    if (!v) return VD_PLUGIN_NONE;
    static const vd_plugin_type_t map[] = {VD_PLUGIN_NIL, VD_PLUGIN_BOOL, VD_PLUGIN_INT,
                                           VD_PLUGIN_FLOAT, VD_PLUGIN_STRING};
    return map[v->type];
}

static int feature_float(vd_plugin_call_t *c, vd_plugin_feature_t f, double *out) {
    const vd_value_t *v = feature(c, f);
    if (!v) return VD_PLUGIN_NOTFOUND;
    if (v->type == VD_VAL_NUM)
        *out = v->u.n;
    else if (v->type == VD_VAL_INT)
        *out = (double)v->u.i;
    else
        return VD_PLUGIN_WRONGTYPE;
    return VD_PLUGIN_OK;
}

static int feature_string(vd_plugin_call_t *c, vd_plugin_feature_t f, const char **p, size_t *n) {
    const vd_value_t *v = feature(c, f);
    if (!v) return VD_PLUGIN_NOTFOUND;
    if (v->type != VD_VAL_STR) return VD_PLUGIN_WRONGTYPE;
    *p = v->u.s.ptr;
    *n = v->u.s.len;
    return VD_PLUGIN_OK;
}

static int feature_bool(vd_plugin_call_t *c, vd_plugin_feature_t f, int *out) {
    const vd_value_t *v = feature(c, f);
    if (!v) return VD_PLUGIN_NOTFOUND;
    if (v->type != VD_VAL_BOOL) return VD_PLUGIN_WRONGTYPE;
    *out = v->u.b;
    return VD_PLUGIN_OK;
}

/* ---- outputs ---- */

static vd_plugin_out_t *push_out(vd_plugin_call_t *c, vd_plugin_out_kind_t kind) {
    if (c->nouts == c->capouts) {
        size_t cap = c->capouts ? c->capouts * 2 : 8;
        vd_plugin_out_t *outs = realloc(c->outs, cap * sizeof *outs);
        if (!outs) return NULL;
        c->outs = outs;
        c->capouts = cap;
    }
    vd_plugin_out_t *o = &c->outs[c->nouts++];
    memset(o, 0, sizeof *o);
    o->kind = kind;
    return o;
}

static char *dup_opt(const char *s) {
    return s ? strdup(s) : NULL;
}

/* Scores and float features must be finite: one infinite score, with an opposite one, makes
 * the total NaN, and no threshold then holds. */
static int add_score(vd_plugin_call_t *c, double score, const char *rule, const char *detail) {
    if (!c || !isfinite(score)) return VD_PLUGIN_ERROR;
    vd_plugin_out_t *o = push_out(c, VD_OUT_SCORE);
    if (!o) return VD_PLUGIN_ERROR;
    o->score = score;
    o->rule = dup_opt(rule);
    o->detail = dup_opt(detail);
    return (rule && !o->rule) || (detail && !o->detail) ? VD_PLUGIN_ERROR : VD_PLUGIN_OK;
}

static int add_tag(vd_plugin_call_t *c, const char *tag) {
    if (!c || !tag || !*tag) return VD_PLUGIN_ERROR;
    vd_plugin_out_t *o = push_out(c, VD_OUT_TAG);
    return o && (o->tag = strdup(tag)) ? VD_PLUGIN_OK : VD_PLUGIN_ERROR;
}

static int set_feature(vd_plugin_call_t *c, vd_plugin_feature_t f, const vd_value_t *v) {
    if (!c || f == 0 || f > c->ps->nfeatures) return VD_PLUGIN_NOTFOUND;
    vd_plugin_out_t *o = push_out(c, VD_OUT_FEATURE);
    if (!o) return VD_PLUGIN_ERROR;
    o->feature = f;
    o->value = *v;
    if (v->type == VD_VAL_STR) {
        char *s = malloc(v->u.s.len + 1);
        if (!s) {
            o->value.type = VD_VAL_NIL;
            return VD_PLUGIN_ERROR;
        }
        memcpy(s, v->u.s.ptr, v->u.s.len);
        s[v->u.s.len] = '\0';
        o->value.u.s.ptr = s;
    }
    return VD_PLUGIN_OK;
}

static int set_feature_float(vd_plugin_call_t *c, vd_plugin_feature_t f, double x) {
    if (!isfinite(x)) return VD_PLUGIN_ERROR;
    vd_value_t v = {.type = VD_VAL_NUM, .u.n = x};
    return set_feature(c, f, &v);
}

static int set_feature_int(vd_plugin_call_t *c, vd_plugin_feature_t f, int64_t x) {
    vd_value_t v = {.type = VD_VAL_INT, .u.i = x};
    return set_feature(c, f, &v);
}

static int set_feature_string(vd_plugin_call_t *c, vd_plugin_feature_t f, const char *s,
                              size_t len) {
    if (!s) return VD_PLUGIN_ERROR;
    vd_value_t v = {.type = VD_VAL_STR, .u.s = {s, len}};
    return set_feature(c, f, &v);
}

static int set_feature_bool(vd_plugin_call_t *c, vd_plugin_feature_t f, int b) {
    vd_value_t v = {.type = VD_VAL_BOOL, .u.b = b != 0};
    return set_feature(c, f, &v);
}

static void set_error(vd_plugin_call_t *c, const char *message) {
    if (c) vd_plugin_call_set_error(c, message);
}

static int64_t time_left_ms(vd_plugin_call_t *c) {
    if (!c || !c->deadline_ns) return INT64_MAX;
    int64_t now = vd_now_ns();
    return now >= c->deadline_ns ? 0 : (c->deadline_ns - now) / 1000000;
}

static int file_version(const char *path, char *out, size_t cap) {
    FILE *f = path ? fopen(path, "rb") : NULL;
    XXH3_state_t *h = XXH3_createState();
    char buf[65536];
    size_t n;
    int ok = f && h;
    if (h) XXH3_64bits_reset(h);
    while (ok && (n = fread(buf, 1, sizeof buf, f)) > 0)
        XXH3_64bits_update(h, buf, n);
    ok = ok && !ferror(f);
    if (ok) {
        const char *base = strrchr(path, '/');
        snprintf(out, cap, "%s@%012llx", base ? base + 1 : path,
                 (unsigned long long)(XXH3_64bits_digest(h) & 0xffffffffffffULL));
    }
    if (f) fclose(f);
    XXH3_freeState(h);
    return ok ? VD_PLUGIN_OK : VD_PLUGIN_ERROR;
}

static const vd_host_api_t host_api = {
    .size = sizeof(vd_host_api_t),
    .abi_major = VD_PLUGIN_ABI_MAJOR,
    .abi_minor = VD_PLUGIN_ABI_MINOR,
    .log = host_log,
    .setup_config = vd__setup_config,
    .setup_stage = vd__setup_stage,
    .setup_path = vd__setup_path,
    .setup_field = vd__setup_field,
    .setup_feature = vd__setup_feature,
    .config_type = vd_plugin_config_type,
    .config_get = vd_plugin_config_get,
    .config_len = vd_plugin_config_len,
    .config_at = vd_plugin_config_at,
    .config_key_at = vd_plugin_config_key_at,
    .config_string = vd_plugin_config_string,
    .config_number = vd_plugin_config_number,
    .config_bool = vd_plugin_config_bool,
    .field_type = field_type,
    .field_string = field_string,
    .field_int = field_int,
    .field_float = field_float,
    .field_bool = field_bool,
    .field_value = field_value,
    .value_type = value_type,
    .value_string = value_string,
    .value_int = value_int,
    .value_float = value_float,
    .value_bool = value_bool,
    .value_len = value_len,
    .value_at = value_at,
    .value_key_at = value_key_at,
    .value_get = value_get,
    .feature_type = feature_type,
    .feature_float = feature_float,
    .feature_string = feature_string,
    .feature_bool = feature_bool,
    .add_score = add_score,
    .add_tag = add_tag,
    .set_feature_float = set_feature_float,
    .set_feature_int = set_feature_int,
    .set_feature_string = set_feature_string,
    .set_feature_bool = set_feature_bool,
    .set_error = set_error,
    .complete = vd__plugin_complete,
    .call_time_left_ms = time_left_ms,
    .setup_describe = vd__setup_describe,
    .config_check_keys = vd_plugin_config_check_keys,
    .file_version = file_version,
    .state_counter = vd__state_counter,
    .state_distinct = vd__state_distinct,
    .state_labeled = vd__state_labeled,
    .state_label = vd__state_label,
    .campaign_text = vd__campaign_text,
    .campaign_fields = vd__campaign_fields,
    .anomaly = vd__anomaly,
    .profile = vd__profile,
};

const vd_host_api_t *vd_plugin_host_api(void) {
    return &host_api;
}
