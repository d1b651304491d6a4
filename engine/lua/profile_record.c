#include "profile_record.h"

#include "proto/rpc.h"

#include <msgpack.h>
#include <stdint.h>
#include <string.h>

/* A map's value at key, or NULL (also when map is not a map). */
static const msgpack_object *field(const msgpack_object *map, const char *key) {
    return vd_rpc_map_get(map, key, strlen(key), 0);
}

/* A number (JSON made it an integer or a float): 1, or 0 when o is none. */
static int number(const msgpack_object *o, double *x) {
    if (!o) return 0;
    if (o->type == MSGPACK_OBJECT_POSITIVE_INTEGER)
        *x = (double)o->via.u64;
    else if (o->type == MSGPACK_OBJECT_NEGATIVE_INTEGER)
        *x = (double)o->via.i64;
    else if (o->type == MSGPACK_OBJECT_FLOAT64 || o->type == MSGPACK_OBJECT_FLOAT32)
        *x = o->via.f64;
    else
        return 0;
    return 1;
}

/* A whole number within [lo, hi]: 1, else 0. */
static int whole(const msgpack_object *o, double lo, double hi, int64_t *v) {
    double x;
    if (!number(o, &x) || !(x >= lo && x <= hi) || x != (double)(int64_t)x) return 0;
    *v = (int64_t)x;
    return 1;
}

#define TIMES 9e15 /* any time a profile keeps (Unix seconds), and 0 for none */

/* The kept answer for one attribute (name and value as asked): 1, else 0. */
static int read_attr(const msgpack_object *kept, const vd_profile_attr_t *a, vd_profile_seen_t *s) {
    const msgpack_object *one = NULL;
    for (uint32_t i = 0; i < kept->via.map.size; i++) {
        const msgpack_object *name = &kept->via.map.ptr[i].key;
        if (name->type == MSGPACK_OBJECT_STR && name->via.str.size == a->nlen &&
            memcmp(name->via.str.ptr, a->name, a->nlen) == 0)
            one = &kept->via.map.ptr[i].val;
    }
    const msgpack_object *value = field(one, "value"), *fresh = field(one, "new");
    int64_t values;
    if (!value || value->type != MSGPACK_OBJECT_STR || value->via.str.size != a->vlen ||
        memcmp(value->via.str.ptr, a->value, a->vlen) != 0 || !fresh ||
        fresh->type != MSGPACK_OBJECT_BOOLEAN || !number(field(one, "share"), &s->share) ||
        !number(field(one, "count"), &s->count) ||
        !whole(field(one, "values"), 0, UINT32_MAX, &values) ||
        !whole(field(one, "last_seen"), -TIMES, TIMES, &s->last_seen))
        return 0;
    s->known = !fresh->via.boolean;
    s->values = (uint32_t)values;
    return 1;
}

/* Whether the kept answer was asked the same way: read only or not, the same half-life, from
 * the same place (or none). */
static int same_question(const msgpack_object *m, const vd_profile_opts_t *o) {
    const msgpack_object *ro = field(m, "read_only"), *asked = field(m, "asked_place");
    int64_t half;
    if (!ro || ro->type != MSGPACK_OBJECT_BOOLEAN || ro->via.boolean != (o->read_only != 0) ||
        !whole(field(m, "half_life_s"), 0, TIMES, &half) || half != o->half_life_s || !asked)
        return 0;
    if (asked->type == MSGPACK_OBJECT_NIL) return !o->has_place;
    double lat, lon;
    return o->has_place && asked->type == MSGPACK_OBJECT_ARRAY && asked->via.array.size == 2 &&
           number(&asked->via.array.ptr[0], &lat) && number(&asked->via.array.ptr[1], &lon) &&
           lat == o->lat && lon == o->lon;
}

/* A kept time moved by shift (0, unknown, stays 0). */
static int64_t moved(int64_t t, int64_t shift) {
    return t ? t + shift : 0;
}

/* The kept answer (the binding's observation) into r: 0 when it answers this read, else -1.
 * Its times move by the difference between now and when it was read, so that what a rule
 * works out from them (hours since the last place, say) is what it was, whichever clock the
 * replay runs on. */
static int read_answer(const msgpack_object *m, const vd_profile_attr_t *attrs, size_t n,
                       const vd_profile_opts_t *o, int64_t now, vd_profile_answer_t *r) {
    memset(r, 0, sizeof *r);
    int64_t events, then;
    const msgpack_object *kept = field(m, "attrs"), *place = field(m, "place");
    if (!same_question(m, o) || !whole(field(m, "now"), -TIMES, TIMES, &then) ||
        !whole(field(m, "events"), 0, UINT32_MAX, &events) ||
        !whole(field(m, "first_seen"), -TIMES, TIMES, &r->first_seen) ||
        !whole(field(m, "last_seen"), -TIMES, TIMES, &r->last_seen) || !kept ||
        kept->type != MSGPACK_OBJECT_MAP || kept->via.map.size != n || !place)
        return -1;
    int64_t shift = now - then;
    r->events = (uint32_t)events;
    r->first_seen = moved(r->first_seen, shift);
    r->last_seen = moved(r->last_seen, shift);
    for (size_t k = 0; k < n; k++) {
        if (!read_attr(kept, &attrs[k], &r->seen[k])) return -1;
        r->seen[k].last_seen = moved(r->seen[k].last_seen, shift);
    }
    if (place->type == MSGPACK_OBJECT_MAP) { /* nil: no travel to show */
        if (!number(field(place, "from_lat"), &r->last_lat) ||
            !number(field(place, "from_lon"), &r->last_lon) ||
            !whole(field(place, "from_time"), -TIMES, TIMES, &r->last_place_at))
            return -1;
        r->last_place_at = moved(r->last_place_at, shift);
        r->had_place = 1;
    }
    return 0;
}

int vd_profile_from_record(const char *packed, size_t plen, const vd_profile_attr_t *attrs,
                           size_t n, const vd_profile_opts_t *o, int64_t now,
                           vd_profile_answer_t *r) {
    if (n > VD_PROFILE_MAX_ATTRS) return -1;
    msgpack_unpacked u;
    msgpack_unpacked_init(&u);
    int rc = msgpack_unpack_next(&u, packed, plen, NULL) == MSGPACK_UNPACK_SUCCESS
                 ? read_answer(&u.data, attrs, n, o, now, r)
                 : -1;
    msgpack_unpacked_destroy(&u);
    return rc;
}
