#include "learn.h"

#include "decision/recorded.h"
#include "proto/mp_scan.h"
#include "state/anomaly.h"
#include "state/profile.h"

#include <stdint.h>

/* Entries are read in place, value by value (the calling thread reads one for nearly every
 * decision: no allocation). */
typedef struct cursor {
    const char *p, *end;
    int bad;
} cursor_t;

static vd_mp_value_t next(cursor_t *c) {
    vd_mp_value_t v = {0};
    size_t n =
        c->bad ? 0 : vd_mp_read_head((const unsigned char *)c->p, (size_t)(c->end - c->p), &v);
    if (!n) {
        c->bad = 1;
        return (vd_mp_value_t){0};
    }
    c->p += n;
    return v;
}

static int64_t integer(cursor_t *c) {
    vd_mp_value_t v = next(c);
    if (v.kind == VD_MP_UINT) return (int64_t)v.u;
    if (v.kind != VD_MP_INT) c->bad = 1;
    return v.i;
}

static double real(cursor_t *c) {
    vd_mp_value_t v = next(c);
    if (v.kind != VD_MP_FLOAT) c->bad = 1;
    return v.d;
}

/* Bytes (a bin), pointing into the entry. */
static const char *bytes(cursor_t *c, size_t *len) {
    vd_mp_value_t v = next(c);
    if (c->bad || v.kind != VD_MP_STR || v.len > (uint64_t)(c->end - c->p)) {
        c->bad = 1;
        return NULL;
    }
    const char *p = c->p;
    *len = (size_t)v.len;
    c->p += v.len;
    return p;
}

/* The rest of [VD_LEARN_PROFILE, entity, now, half_life_s, has_place, lat, lon,
 * [[name, value], ...]] after now. */
static void learn_profile(vd_store_t *store, cursor_t *c, const char *entity, size_t len,
                          int64_t now) {
    vd_profile_opts_t o = {.half_life_s = integer(c), .has_place = integer(c) != 0};
    o.lat = real(c);
    o.lon = real(c);
    vd_mp_value_t list = next(c);
    if (c->bad || list.kind != VD_MP_ARRAY || list.len > VD_PROFILE_MAX_ATTRS) return;
    vd_profile_attr_t attrs[VD_PROFILE_MAX_ATTRS];
    for (uint64_t k = 0; k < list.len; k++) {
        vd_mp_value_t pair = next(c);
        if (pair.kind != VD_MP_ARRAY || pair.len != 2) return;
        attrs[k].name = bytes(c, &attrs[k].nlen);
        attrs[k].value = bytes(c, &attrs[k].vlen);
        if (c->bad) return;
    }
    vd_profile_answer_t r;
    vd_profile_observe(store, entity, len, now, attrs, (size_t)list.len, &o, &r);
}

void vd_replay_learn(vd_store_t *store, const char *p, size_t n) {
    cursor_t c = {p, p + n, 0};
    while (c.p < c.end && !c.bad) {
        vd_mp_value_t head = next(&c);
        int64_t kind = integer(&c);
        size_t len = 0;
        const char *key = bytes(&c, &len);
        int64_t now = integer(&c);
        if (c.bad || head.kind != VD_MP_ARRAY) return;
        if (kind == VD_LEARN_ANOMALY && head.len == 5) {
            double value = real(&c);
            int64_t every = integer(&c);
            vd_anomaly_result_t r;
            if (!c.bad) vd_anomaly_observe(store, key, len, now, value, every, &r);
        } else if (kind == VD_LEARN_PROFILE && head.len == 8) {
            learn_profile(store, &c, key, len, now);
        } else {
            return; /* not an entry the bindings write: nothing after it can be trusted */
        }
    }
}
