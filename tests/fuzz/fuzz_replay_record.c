/* libFuzzer target: one line of a decision log (or of plain events) as `verdict replay` reads
 * it (replay/record.c): parsed into a record and what it observed; then every kept anomaly
 * model's and profile's answer as a replay reads it back for a rule (lua/anomaly_record.c,
 * lua/profile_record.c), asked the way the record itself says it was asked (so that the whole
 * reading is tried) and another way; then what those reads would teach the replay's own state
 * (replay/learn.c). Nothing may crash, leak or read past the input. */
#include "decision/recorded.h"
#include "lua/anomaly_record.h"
#include "lua/profile_record.h"
#include "replay/learn.h"
#include "replay/record.h"
#include "state/store.h"

#include <msgpack.h>
#include <stdint.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const msgpack_object *get(const msgpack_object *map, const char *key) {
    if (!map || map->type != MSGPACK_OBJECT_MAP) return NULL;
    for (uint32_t i = 0; i < map->via.map.size; i++) {
        const msgpack_object_kv *kv = &map->via.map.ptr[i];
        if (kv->key.type == MSGPACK_OBJECT_STR && kv->key.via.str.size == strlen(key) &&
            memcmp(kv->key.via.str.ptr, key, strlen(key)) == 0)
            return &kv->val;
    }
    return NULL;
}

static double num(const msgpack_object *o) {
    if (!o) return 0;
    if (o->type == MSGPACK_OBJECT_FLOAT64 || o->type == MSGPACK_OBJECT_FLOAT32) return o->via.f64;
    if (o->type == MSGPACK_OBJECT_POSITIVE_INTEGER) return (double)o->via.u64;
    if (o->type == MSGPACK_OBJECT_NEGATIVE_INTEGER) return (double)o->via.i64;
    return 0;
}

static int64_t whole(const msgpack_object *o) {
    double x = num(o);
    return x >= -9e15 && x <= 9e15 ? (int64_t)x : 0;
}

static void anomaly(const char *packed, size_t n, const msgpack_object *m, msgpack_sbuffer *l) {
    vd_anomaly_result_t r;
    vd_anomaly_from_record(packed, n, num(get(m, "value")), whole(get(m, "every")), &r);
    vd_anomaly_from_record(packed, n, 1.0, 60, &r);
    msgpack_packer pk;
    msgpack_packer_init(&pk, l, msgpack_sbuffer_write);
    msgpack_pack_array(&pk, 5);
    msgpack_pack_int(&pk, VD_LEARN_ANOMALY);
    msgpack_pack_bin_with_body(&pk, "k", 1);
    msgpack_pack_int64(&pk, whole(get(m, "every")));
    msgpack_pack_double(&pk, num(get(m, "value")));
    msgpack_pack_int64(&pk, whole(get(m, "every")));
}

static void profile(const char *packed, size_t n, const msgpack_object *m) {
    vd_profile_attr_t attrs[VD_PROFILE_MAX_ATTRS];
    size_t k = 0;
    const msgpack_object *kept = get(m, "attrs"), *asked = get(m, "asked_place");
    for (uint32_t i = 0; kept && kept->type == MSGPACK_OBJECT_MAP && i < kept->via.map.size &&
                         k < VD_PROFILE_MAX_ATTRS;
         i++) {
        const msgpack_object_kv *a = &kept->via.map.ptr[i];
        const msgpack_object *v = get(&a->val, "value");
        if (a->key.type != MSGPACK_OBJECT_STR || !v || v->type != MSGPACK_OBJECT_STR) continue;
        attrs[k++] = (vd_profile_attr_t){a->key.via.str.ptr, v->via.str.ptr, a->key.via.str.size,
                                         v->via.str.size};
    }
    const msgpack_object *ro = get(m, "read_only");
    vd_profile_opts_t o = {.half_life_s = whole(get(m, "half_life_s")),
                           .read_only =
                               ro && ro->type == MSGPACK_OBJECT_BOOLEAN && ro->via.boolean};
    if (asked && asked->type == MSGPACK_OBJECT_ARRAY && asked->via.array.size == 2) {
        o.has_place = 1;
        o.lat = num(&asked->via.array.ptr[0]);
        o.lon = num(&asked->via.array.ptr[1]);
    }
    vd_profile_answer_t r;
    vd_profile_from_record(packed, n, attrs, k, &o, whole(get(m, "now")) + 3600, &r);
    o.read_only = !o.read_only;
    vd_profile_from_record(packed, n, attrs, k, &o, 0, &r);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    static vd_store_t *store;
    if (!store) store = vd_store_new((size_t)16 << 20); /* kept: the inputs learn into it */
    msgpack_sbuffer mp, learn;
    msgpack_sbuffer_init(&mp);
    msgpack_sbuffer_init(&learn);
    msgpack_zone *zone = msgpack_zone_new(MSGPACK_ZONE_CHUNK_SIZE);
    vd_replay_input_t in = {.pipeline = "signup", .time_field = "ts"};
    vd_replay_rec_t rec;
    char err[200];
    if (zone && vd_replay_rec_read(&rec, (const char *)data, size, 1, &in, &mp, zone, err,
                                   sizeof err) == 0) {
        for (size_t i = 0; i < rec.nobserved; i++) {
            const vd_observed_t *o = &rec.observed[i];
            if (!o->packed || (o->kind != VD_OBS_ANOMALY && o->kind != VD_OBS_PROFILE)) continue;
            msgpack_unpacked u;
            msgpack_unpacked_init(&u);
            if (msgpack_unpack_next(&u, o->packed, o->plen, NULL) == MSGPACK_UNPACK_SUCCESS) {
                if (o->kind == VD_OBS_ANOMALY)
                    anomaly(o->packed, o->plen, &u.data, &learn);
                else
                    profile(o->packed, o->plen, &u.data);
            }
            msgpack_unpacked_destroy(&u);
        }
    }
    if (store && learn.size) vd_replay_learn(store, learn.data, learn.size);
    if (store) vd_replay_learn(store, (const char *)data, size); /* any bytes: never trusted */
    if (zone) msgpack_zone_free(zone);
    msgpack_sbuffer_destroy(&mp);
    msgpack_sbuffer_destroy(&learn);
    return 0;
}
