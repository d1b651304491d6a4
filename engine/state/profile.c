#include "profile.h"

#include "base/error.h"

#include <math.h>
#include <string.h>
#include <xxhash.h>

#define DEFAULT_HALF_LIFE ((int64_t)30 * 86400)
#define FORGOTTEN         0.05 /* a count below this has decayed away: the value is new again */

typedef struct slot {
    uint64_t value; /* hash of the value */
    uint32_t attr;  /* hash of the attribute's name; 0: a free slot */
    uint32_t last;  /* when the value last came (seconds, wraps in 2106) */
    float count;    /* decayed to the profile's `decayed` time */
    uint32_t pad;
} slot_t;

typedef struct profile {
    int64_t first, last, decayed; /* first and last event; the time counts are decayed to */
    int64_t place_at;
    double lat, lon;
    uint32_t events, has_place;
    slot_t slots[VD_PROFILE_SLOTS];
} profile_t;

_Static_assert(sizeof(profile_t) == VD_PROFILE_BYTES, "VD_PROFILE_BYTES is the record's size");

/* Key space of profiles in the store's records. */
#define KEY_TAG "\x01profile:"

typedef struct call {
    const vd_profile_attr_t *attrs;
    size_t n;
    const vd_profile_opts_t *o;
    int64_t now;
    uint32_t ahash[VD_PROFILE_MAX_ATTRS];
    uint64_t vhash[VD_PROFILE_MAX_ATTRS];
    vd_profile_answer_t *out;
} call_t;

static void decay(profile_t *p, int64_t now, int64_t half_life) {
    if (now <= p->decayed) return;
    float f = (float)exp2(-(double)(now - p->decayed) / (double)half_life);
    for (int i = 0; i < VD_PROFILE_SLOTS; i++)
        p->slots[i].count *= f;
    p->decayed = now;
}

static void answer(const profile_t *p, call_t *c) {
    vd_profile_answer_t *a = c->out;
    a->events = p->events;
    a->first_seen = p->first;
    a->last_seen = p->last;
    a->had_place = (int)p->has_place;
    a->last_lat = p->lat;
    a->last_lon = p->lon;
    a->last_place_at = p->place_at;
    for (size_t k = 0; k < c->n; k++) {
        vd_profile_seen_t *seen = &a->seen[k];
        for (int i = 0; i < VD_PROFILE_SLOTS; i++) {
            const slot_t *sl = &p->slots[i];
            if (!sl->attr || sl->attr != c->ahash[k]) continue;
            seen->total += sl->count;
            seen->values++;
            if (sl->value != c->vhash[k]) continue;
            seen->count = sl->count;
            seen->last_seen = sl->last;
        }
        seen->known = seen->count >= FORGOTTEN;
        seen->share = seen->total > 0 ? seen->count / seen->total : 0;
    }
}

/* The slot for attribute k's value: its own, a free one, or the lightest of the attribute
 * (when it holds its share of slots) or of the profile. */
static slot_t *slot_for(profile_t *p, const call_t *c, size_t k) {
    slot_t *free = NULL, *light_attr = NULL, *light = NULL;
    int of_attr = 0;
    for (int i = 0; i < VD_PROFILE_SLOTS; i++) {
        slot_t *sl = &p->slots[i];
        if (!sl->attr) {
            if (!free) free = sl;
            continue;
        }
        if (sl->attr == c->ahash[k]) {
            if (sl->value == c->vhash[k]) return sl;
            of_attr++;
            if (!light_attr || sl->count < light_attr->count) light_attr = sl;
        }
        if (!light || sl->count < light->count) light = sl;
    }
    slot_t *sl = of_attr >= VD_PROFILE_PER_ATTR ? light_attr : free ? free : light;
    memset(sl, 0, sizeof *sl);
    sl->attr = c->ahash[k];
    sl->value = c->vhash[k];
    return sl;
}

static void add(profile_t *p, const call_t *c) {
    for (size_t k = 0; k < c->n; k++) {
        slot_t *sl = slot_for(p, c, k);
        sl->count += 1;
        sl->last = (uint32_t)c->now;
    }
    if (!p->events || c->now < p->first) p->first = c->now;
    if (c->now > p->last) p->last = c->now;
    p->events++;
    if (c->o->has_place) {
        p->has_place = 1;
        p->lat = c->o->lat;
        p->lon = c->o->lon;
        p->place_at = c->now;
    }
}

static int visit(void *ud, void *payload, int made) {
    call_t *c = ud;
    profile_t *p = payload;
    (void)made;       /* a new record is zeroed: a profile without events */
    if (!p) return 0; /* a read of a profile that does not exist: nothing known */
    int64_t half = c->o->half_life_s > 0 ? c->o->half_life_s : DEFAULT_HALF_LIFE;
    decay(p, c->now, half);
    answer(p, c);
    if (!c->o->read_only) add(p, c);
    return 0;
}

int vd_profile_observe(vd_store_t *s, const char *entity, size_t len, int64_t now,
                       const vd_profile_attr_t *attrs, size_t n, const vd_profile_opts_t *o,
                       vd_profile_answer_t *out) {
    memset(out, 0, sizeof *out);
    if (n > VD_PROFILE_MAX_ATTRS || len > 1024) return VD_EINVAL;
    call_t c = {.attrs = attrs, .n = n, .o = o, .now = now, .out = out};
    for (size_t k = 0; k < n; k++) {
        c.ahash[k] = XXH32(attrs[k].name, attrs[k].nlen, 0) | 1; /* never 0: a free slot */
        c.vhash[k] = XXH3_64bits(attrs[k].value, attrs[k].vlen);
    }
    char key[1024 + sizeof KEY_TAG];
    memcpy(key, KEY_TAG, sizeof KEY_TAG - 1);
    memcpy(key + sizeof KEY_TAG - 1, entity, len);
    return vd_store_record(s, key, sizeof KEY_TAG - 1 + len, sizeof(profile_t), !o->read_only,
                           visit, &c);
}

double vd_geo_distance_km(double lat1, double lon1, double lat2, double lon2) {
    const double r = 6371.0, rad = M_PI / 180.0;
    double dlat = (lat2 - lat1) * rad, dlon = (lon2 - lon1) * rad;
    double a = sin(dlat / 2) * sin(dlat / 2) +
               cos(lat1 * rad) * cos(lat2 * rad) * sin(dlon / 2) * sin(dlon / 2);
    return 2 * r * asin(sqrt(a < 1 ? a : 1));
}
