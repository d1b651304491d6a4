#include "event_check.h"

#include "base/error.h"
#include "base/ipaddr.h"
#include "base/stats.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>

static const char *what_is(const msgpack_object *v) {
    switch (v->type) {
    case MSGPACK_OBJECT_BOOLEAN:
        return "a boolean";
    case MSGPACK_OBJECT_POSITIVE_INTEGER:
    case MSGPACK_OBJECT_NEGATIVE_INTEGER:
        return "an integer";
    case MSGPACK_OBJECT_FLOAT32:
    case MSGPACK_OBJECT_FLOAT64:
        return "a number with a fraction";
    case MSGPACK_OBJECT_STR:
    case MSGPACK_OBJECT_BIN:
        return "a string";
    case MSGPACK_OBJECT_ARRAY:
        return "an array";
    case MSGPACK_OBJECT_MAP:
        return "a map";
    default:
        return "an extension value";
    }
}

static int is_string(const msgpack_object *v) {
    return v->type == MSGPACK_OBJECT_STR || v->type == MSGPACK_OBJECT_BIN;
}

/* Lua sees a float without a fraction as a number rules can use as an integer, and some
 * clients send every number as a float. */
static int is_integer(const msgpack_object *v) {
    if (v->type == MSGPACK_OBJECT_POSITIVE_INTEGER || v->type == MSGPACK_OBJECT_NEGATIVE_INTEGER)
        return 1;
    if (v->type != MSGPACK_OBJECT_FLOAT32 && v->type != MSGPACK_OBJECT_FLOAT64) return 0;
    double d = v->via.f64;
    return isfinite(d) && d == floor(d) && d >= -0x1p63 && d < 0x1p63;
}

static int is_ip(const msgpack_object *v) {
    vd_ip_t ip;
    if (v->type == MSGPACK_OBJECT_STR)
        return vd_ip_parse(v->via.str.ptr, v->via.str.size, &ip) == 0;
    return v->type == MSGPACK_OBJECT_BIN && vd_ip_parse(v->via.bin.ptr, v->via.bin.size, &ip) == 0;
}

static int has_type(vd_field_type_t t, const msgpack_object *v) {
    switch (t) {
    case VD_FIELD_ANY:
        return 1;
    case VD_FIELD_STRING:
        return is_string(v);
    case VD_FIELD_NUMBER:
        return v->type == MSGPACK_OBJECT_FLOAT32 || v->type == MSGPACK_OBJECT_FLOAT64 ||
               is_integer(v);
    case VD_FIELD_INTEGER:
        return is_integer(v);
    case VD_FIELD_BOOLEAN:
        return v->type == MSGPACK_OBJECT_BOOLEAN;
    case VD_FIELD_IP:
        return is_ip(v);
    case VD_FIELD_MAP:
        return v->type == MSGPACK_OBJECT_MAP;
    case VD_FIELD_ARRAY:
        return v->type == MSGPACK_OBJECT_ARRAY;
    case VD_FIELD_TABLE:
        return v->type == MSGPACK_OBJECT_MAP || v->type == MSGPACK_OBJECT_ARRAY;
    default:
        return 0;
    }
}

static int refuse(const vd_pipeline_t *pl) {
    if (pl->stats) vd_counter_add(&pl->stats->invalid, 1);
    return VD_EINVAL;
}

int vd_event_check(const vd_pipeline_t *pl, const msgpack_object *event, char *why, size_t cap) {
    const vd_schema_t *s = &pl->fields;
    if (s->n == 0 || event->type != MSGPACK_OBJECT_MAP) return 0;
    uint64_t seen = 0;
    const msgpack_object_kv *kv = event->via.map.ptr;
    for (uint32_t i = 0; i < event->via.map.size; i++) {
        const msgpack_object *k = &kv[i].key, *v = &kv[i].val;
        if (!is_string(k) || v->type == MSGPACK_OBJECT_NIL) continue; /* nil: not given */
        const char *name = k->type == MSGPACK_OBJECT_STR ? k->via.str.ptr : k->via.bin.ptr;
        size_t len = k->type == MSGPACK_OBJECT_STR ? k->via.str.size : k->via.bin.size;
        const vd_schema_field_t *f = vd_schema_find(s, name, len);
        if (!f) continue;
        if (!has_type(f->type, v)) {
            if (f->type == VD_FIELD_IP && is_string(v)) {
                size_t n = v->type == MSGPACK_OBJECT_STR ? v->via.str.size : v->via.bin.size;
                const char *text = v->type == MSGPACK_OBJECT_STR ? v->via.str.ptr : v->via.bin.ptr;
                snprintf(why, cap,
                         "pipeline '%s': event field '%s' must be an IP address, and "
                         "'%.*s' is not one",
                         pl->name, f->name, (int)(n < 64 ? n : 64), text);
            } else
                snprintf(why, cap, "pipeline '%s': event field '%s' must be %s, not %s", pl->name,
                         f->name, vd_field_type_what(f->type), what_is(v));
            return refuse(pl);
        }
        seen |= (uint64_t)1 << (f - s->fields);
    }
    for (size_t i = 0; i < s->n; i++) {
        if (s->fields[i].optional || (seen >> i) & 1) continue;
        snprintf(why, cap,
                 "pipeline '%s': the event lacks the field '%s' (%s), which the "
                 "pipeline's fields require",
                 pl->name, s->fields[i].name, vd_field_type_what(s->fields[i].type));
        return refuse(pl);
    }
    return 0;
}
