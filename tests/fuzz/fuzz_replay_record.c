/* libFuzzer target: one line of a decision log (or of plain events) as `verdict replay` reads
 * it (replay/record.c): parsed into a record and what it observed; then every kept anomaly
 * model's and profile's answer as a replay reads it back for a rule (lua/anomaly_record.c,
 * lua/profile_record.c), for the value and the attributes the record itself names. Nothing
 * may crash, leak or read past the input. */
#include "lua/anomaly_record.h"
#include "lua/profile_record.h"
#include "replay/record.h"

#include <msgpack.h>
#include <stdint.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The attributes a kept profile answer names, with their values, as a rule would ask them. */
static size_t attrs_of(const char *packed, size_t n, vd_profile_attr_t *out) {
    msgpack_unpacked u;
    msgpack_unpacked_init(&u);
    size_t k = 0;
    if (msgpack_unpack_next(&u, packed, n, NULL) == MSGPACK_UNPACK_SUCCESS &&
        u.data.type == MSGPACK_OBJECT_MAP) {
        for (uint32_t i = 0; i < u.data.via.map.size; i++) {
            const msgpack_object_kv *kv = &u.data.via.map.ptr[i];
            if (kv->key.type != MSGPACK_OBJECT_STR || kv->key.via.str.size != 5 ||
                memcmp(kv->key.via.str.ptr, "attrs", 5) != 0 || kv->val.type != MSGPACK_OBJECT_MAP)
                continue;
            for (uint32_t j = 0; j < kv->val.via.map.size && k < VD_PROFILE_MAX_ATTRS; j++) {
                const msgpack_object_kv *a = &kv->val.via.map.ptr[j];
                if (a->key.type != MSGPACK_OBJECT_STR) continue;
                out[k++] = (vd_profile_attr_t){a->key.via.str.ptr, "x", a->key.via.str.size, 1};
            }
        }
    }
    vd_profile_answer_t r;
    vd_profile_from_record(packed, n, out, k, &r); /* values "x": mostly not the kept ones */
    msgpack_unpacked_destroy(&u);
    return k;
}

/* The value a kept anomaly answer names (0 when none), so that its whole reading is tried. */
static double kept_value(const char *packed, size_t n) {
    msgpack_unpacked u;
    msgpack_unpacked_init(&u);
    double x = 0;
    if (msgpack_unpack_next(&u, packed, n, NULL) == MSGPACK_UNPACK_SUCCESS &&
        u.data.type == MSGPACK_OBJECT_MAP)
        for (uint32_t i = 0; i < u.data.via.map.size; i++) {
            const msgpack_object_kv *kv = &u.data.via.map.ptr[i];
            if (kv->key.type == MSGPACK_OBJECT_STR && kv->key.via.str.size == 5 &&
                memcmp(kv->key.via.str.ptr, "value", 5) == 0 &&
                kv->val.type == MSGPACK_OBJECT_FLOAT64)
                x = kv->val.via.f64;
        }
    msgpack_unpacked_destroy(&u);
    return x;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    msgpack_sbuffer mp;
    msgpack_sbuffer_init(&mp);
    msgpack_zone *zone = msgpack_zone_new(MSGPACK_ZONE_CHUNK_SIZE);
    vd_replay_input_t in = {.pipeline = "signup", .time_field = "ts"};
    vd_replay_rec_t rec;
    char err[200];
    if (zone && vd_replay_rec_read(&rec, (const char *)data, size, 1, &in, &mp, zone, err,
                                   sizeof err) == 0) {
        for (size_t i = 0; i < rec.nobserved; i++) {
            const vd_observed_t *o = &rec.observed[i];
            if (!o->packed) continue;
            if (o->kind == VD_OBS_ANOMALY) {
                vd_anomaly_result_t r;
                vd_anomaly_from_record(o->packed, o->plen, kept_value(o->packed, o->plen), &r);
                vd_anomaly_from_record(o->packed, o->plen, 1.0, &r);
            } else if (o->kind == VD_OBS_PROFILE) {
                vd_profile_attr_t attrs[VD_PROFILE_MAX_ATTRS];
                attrs_of(o->packed, o->plen, attrs);
            }
        }
    }
    if (zone) msgpack_zone_free(zone);
    msgpack_sbuffer_destroy(&mp);
    return 0;
}
