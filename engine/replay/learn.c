#include "learn.h"

#include "decision/recorded.h"
#include "state/anomaly.h"
#include "state/profile.h"

#include <msgpack.h>
#include <stdint.h>

static int64_t int_at(const msgpack_object *a, uint32_t i) {
    const msgpack_object *o = &a->via.array.ptr[i];
    if (o->type == MSGPACK_OBJECT_POSITIVE_INTEGER) return (int64_t)o->via.u64;
    if (o->type == MSGPACK_OBJECT_NEGATIVE_INTEGER) return o->via.i64;
    return 0;
}

static double double_at(const msgpack_object *a, uint32_t i) {
    const msgpack_object *o = &a->via.array.ptr[i];
    return o->type == MSGPACK_OBJECT_FLOAT64 || o->type == MSGPACK_OBJECT_FLOAT32 ? o->via.f64
                                                                                  : 0.0;
}

static int bin_at(const msgpack_object *a, uint32_t i, const char **p, size_t *n) {
    const msgpack_object *o = &a->via.array.ptr[i];
    if (o->type != MSGPACK_OBJECT_BIN) return 0;
    *p = o->via.bin.ptr;
    *n = o->via.bin.size;
    return 1;
}

/* [VD_LEARN_PROFILE, entity, now, half_life_s, has_place, lat, lon, [[name, value], ...]] */
static void learn_profile(vd_store_t *store, const msgpack_object *a) {
    const char *entity;
    size_t len;
    if (a->via.array.size != 8 || !bin_at(a, 1, &entity, &len)) return;
    const msgpack_object *list = &a->via.array.ptr[7];
    if (list->type != MSGPACK_OBJECT_ARRAY || list->via.array.size > VD_PROFILE_MAX_ATTRS) return;
    vd_profile_attr_t attrs[VD_PROFILE_MAX_ATTRS];
    for (uint32_t k = 0; k < list->via.array.size; k++) {
        const msgpack_object *pair = &list->via.array.ptr[k];
        if (pair->type != MSGPACK_OBJECT_ARRAY || pair->via.array.size != 2 ||
            !bin_at(pair, 0, &attrs[k].name, &attrs[k].nlen) ||
            !bin_at(pair, 1, &attrs[k].value, &attrs[k].vlen))
            return;
    }
    vd_profile_opts_t o = {.half_life_s = int_at(a, 3),
                           .has_place = int_at(a, 4) != 0,
                           .lat = double_at(a, 5),
                           .lon = double_at(a, 6)};
    vd_profile_answer_t r;
    vd_profile_observe(store, entity, len, int_at(a, 2), attrs, list->via.array.size, &o, &r);
}

void vd_replay_learn(vd_store_t *store, const char *p, size_t n) {
    msgpack_unpacked u;
    msgpack_unpacked_init(&u);
    size_t off = 0;
    while (msgpack_unpack_next(&u, p, n, &off) == MSGPACK_UNPACK_SUCCESS) {
        const msgpack_object *a = &u.data;
        if (a->type != MSGPACK_OBJECT_ARRAY || a->via.array.size < 5) continue;
        if (int_at(a, 0) == VD_LEARN_PROFILE) {
            learn_profile(store, a);
            continue;
        }
        const char *key;
        size_t len;
        vd_anomaly_result_t r;
        if (int_at(a, 0) == VD_LEARN_ANOMALY && a->via.array.size == 5 && bin_at(a, 1, &key, &len))
            vd_anomaly_observe(store, key, len, int_at(a, 2), double_at(a, 3), int_at(a, 4), &r);
    }
    msgpack_unpacked_destroy(&u);
}
