#include "recorded_outputs.h"

#include "base/arena.h"
#include "base/error.h"
#include "proto/rpc.h"

#include <string.h>

const msgpack_object *vd_recorded_field(const msgpack_object *m, const char *key) {
    return vd_rpc_map_get(m, key, strlen(key), 0);
}

static int recorded_value(const msgpack_object *v, vd_value_t *out) {
    switch (v->type) {
    case MSGPACK_OBJECT_BOOLEAN:
        *out = (vd_value_t){.type = VD_VAL_BOOL, .u.b = v->via.boolean};
        break;
    case MSGPACK_OBJECT_POSITIVE_INTEGER:
    case MSGPACK_OBJECT_NEGATIVE_INTEGER:
        *out = (vd_value_t){.type = VD_VAL_INT, .u.i = v->via.i64};
        break;
    case MSGPACK_OBJECT_FLOAT32:
    case MSGPACK_OBJECT_FLOAT64:
        *out = (vd_value_t){.type = VD_VAL_NUM, .u.n = v->via.f64};
        break;
    case MSGPACK_OBJECT_STR:
        *out = (vd_value_t){.type = VD_VAL_STR, .u.s = {v->via.str.ptr, v->via.str.size}};
        break;
    default:
        *out = (vd_value_t){.type = VD_VAL_NIL};
        break;
    }
    return 0;
}

int vd_recorded_output_apply(const vd_stage_t *st, const msgpack_object *out, vd_decision_t *d) {
    const msgpack_object *score = vd_recorded_field(out, "score"),
                         *tag = vd_recorded_field(out, "tag"),
                         *feature = vd_recorded_field(out, "feature");
    if (score && (score->type == MSGPACK_OBJECT_FLOAT64 || score->type == MSGPACK_OBJECT_FLOAT32 ||
                  score->type == MSGPACK_OBJECT_POSITIVE_INTEGER ||
                  score->type == MSGPACK_OBJECT_NEGATIVE_INTEGER)) {
        const msgpack_object *rule = vd_recorded_field(out, "rule"),
                             *detail = vd_recorded_field(out, "detail");
        double v = score->type == MSGPACK_OBJECT_POSITIVE_INTEGER   ? (double)score->via.u64
                   : score->type == MSGPACK_OBJECT_NEGATIVE_INTEGER ? (double)score->via.i64
                                                                    : score->via.f64;
        const char *name = st->name;
        if (rule && rule->type == MSGPACK_OBJECT_STR &&
            !(name = vd_arena_strndup(d->arena, rule->via.str.ptr, rule->via.str.size)))
            return VD_ENOMEM;
        int has_detail = detail && detail->type == MSGPACK_OBJECT_STR;
        return vd_decision_add_reason(d, st->shadow, name, st->name, v,
                                      has_detail ? detail->via.str.ptr : NULL,
                                      has_detail ? detail->via.str.size : 0);
    }
    if (tag && tag->type == MSGPACK_OBJECT_STR)
        return vd_decision_add_tag(d, st->shadow, tag->via.str.ptr, tag->via.str.size);
    if (feature && feature->type == MSGPACK_OBJECT_STR) {
        const msgpack_object *value = vd_recorded_field(out, "value");
        vd_value_t v = {.type = VD_VAL_NIL};
        if (value) recorded_value(value, &v);
        return vd_decision_set_feature(d, st->shadow, feature->via.str.ptr, feature->via.str.size,
                                       &v);
    }
    return 0;
}
