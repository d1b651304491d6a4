#include "recorded.h"

#include <string.h>

const vd_observed_t *vd_recorded_take(vd_recorded_t *r, vd_obs_kind_t kind, const char *name,
                                      size_t len, const char *value, size_t vlen) {
    for (size_t i = 0; i < r->n; i++) {
        const vd_observed_t *o = &r->items[i];
        if (r->used[i] || o->kind != kind || o->len != len || memcmp(o->name, name, len) != 0)
            continue;
        if ((o->value != NULL) != (value != NULL)) continue;
        if (value && (o->vlen != vlen || memcmp(o->value, value, vlen) != 0)) continue;
        r->used[i] = 1;
        return o;
    }
    return NULL;
}

int vd_recorded_learn_begin(vd_recorded_t *r, msgpack_packer *pk, int kind, uint32_t items,
                            const char *key, size_t len, int64_t now) {
    if (!r->learn) return 0;
    msgpack_packer_init(pk, r->learn, msgpack_sbuffer_write);
    msgpack_pack_array(pk, items);
    msgpack_pack_int(pk, kind);
    msgpack_pack_bin_with_body(pk, key, len);
    msgpack_pack_int64(pk, now);
    return 1;
}
