#include "admin_params.h"

#include <string.h>

static const char *const kind_names[] = {"counter", "distinct", "label", "campaign"};

const char *vd_key_kind_name(vd_key_kind_t kind) {
    return kind_names[kind];
}

static int str_is(const msgpack_object *o, const char *s) {
    return o->type == MSGPACK_OBJECT_STR && o->via.str.size == strlen(s) &&
           memcmp(o->via.str.ptr, s, o->via.str.size) == 0;
}

/* The index of o in names[0..n), or -1. */
static int name_index(const msgpack_object *o, const char *const *names, int n) {
    for (int i = 0; i < n; i++)
        if (str_is(o, names[i])) return i;
    return -1;
}

static const char *const shapes[] = {
    [VD_STATE_GET] = "state_get takes [kind, key]",
    [VD_STATE_SET] = "state_set takes [kind, key, value] or [kind, key, value, options]",
    [VD_STATE_RESET] = "state_reset takes [kind, key]",
};

/* state_set's options: ttl, for distinct counts only. */
static const char *read_set_options(const msgpack_object *o, vd_state_params_t *out) {
    if (o->type != MSGPACK_OBJECT_MAP) return "options must be a map";
    for (uint32_t i = 0; i < o->via.map.size; i++) {
        const msgpack_object *k = &o->via.map.ptr[i].key, *v = &o->via.map.ptr[i].val;
        if (!str_is(k, "ttl")) return "unknown option (known: ttl)";
        if (out->kind != VD_KEY_DISTINCT) return "option ttl is for distinct counts only";
        if (v->type != MSGPACK_OBJECT_POSITIVE_INTEGER || v->via.u64 > (uint64_t)366 * 86400)
            return "option ttl must be an integer from 0 (never expires) to 31622400 seconds";
        out->ttl = (int64_t)v->via.u64;
    }
    return NULL;
}

const char *vd_state_params_read(const msgpack_object *params, vd_state_method_t m,
                                 vd_state_params_t *out) {
    memset(out, 0, sizeof *out);
    out->ttl = 86400;
    uint32_t n = params->via.array.size;
    const msgpack_object *p = params->via.array.ptr;
    if (m == VD_STATE_SET ? n < 3 || n > 4 : n != 2) return shapes[m];
    int kind = name_index(&p[0], kind_names, VD_KEY_KINDS);
    if (kind < 0) return "kind must be \"counter\", \"distinct\", \"label\" or \"campaign\"";
    out->kind = (vd_key_kind_t)kind;
    if (m == VD_STATE_SET && kind == VD_KEY_CAMPAIGN)
        return "a campaign cannot be set: reset it (state_reset) or report on it (report)";
    if (p[1].type != MSGPACK_OBJECT_STR || p[1].via.str.size == 0)
        return "key must be a non-empty string";
    if (p[1].via.str.size > 1024) return "key must be at most 1024 bytes";
    out->key = p[1].via.str.ptr;
    out->key_len = p[1].via.str.size;
    if (m != VD_STATE_SET) return NULL;
    if (p[2].type != MSGPACK_OBJECT_POSITIVE_INTEGER || p[2].via.u64 > UINT32_MAX)
        return "value must be an integer from 0 to 4294967295 (a counter's count, a distinct "
               "count's number of values, a label's seconds)";
    out->value = (uint32_t)p[2].via.u64;
    return n == 4 ? read_set_options(&p[3], out) : NULL;
}

const char *vd_list_check_params_read(const msgpack_object *params, vd_list_check_params_t *out) {
    static const char *const list_kinds[] = {"ip", "domain", "exact"};
    memset(out, 0, sizeof *out);
    out->kind = -1;
    uint32_t n = params->via.array.size;
    const msgpack_object *p = params->via.array.ptr;
    if (n < 2 || n > 3) return "list_check takes [path, value] or [path, value, options]";
    if (p[0].type != MSGPACK_OBJECT_STR || p[0].via.str.size == 0)
        return "path must be a non-empty string";
    if (p[1].type != MSGPACK_OBJECT_STR) return "value must be a string";
    out->path = p[0].via.str.ptr;
    out->path_len = p[0].via.str.size;
    out->value = p[1].via.str.ptr;
    out->value_len = p[1].via.str.size;
    if (n == 2) return NULL;
    if (p[2].type != MSGPACK_OBJECT_MAP) return "options must be a map";
    for (uint32_t i = 0; i < p[2].via.map.size; i++) {
        const msgpack_object_kv *kv = &p[2].via.map.ptr[i];
        if (!str_is(&kv->key, "kind")) return "unknown option (known: kind)";
        if ((out->kind = name_index(&kv->val, list_kinds, 3)) < 0)
            return "option kind must be \"ip\", \"domain\" or \"exact\"";
    }
    return NULL;
}
