/* Behaviour profiles: for one entity (an account), how often each value of a few categorical
 * attributes came with it (country, ASN, device, hour of day), counted with exponential decay
 * so that old habits fade, and where and when it was last seen. A read says how usual this
 * event's values are for the entity, from its own history, before the event is added.
 *
 * A profile is a fixed-size record in the state store (vd_store_record): VD_PROFILE_BYTES,
 * VD_PROFILE_SLOTS values in all, at most VD_PROFILE_PER_ATTR per attribute; when a slot is
 * needed the lightest value goes (of the attribute when it has its share, else of the
 * profile). Profiles share the store's memory cap and are evicted, least recently used first,
 * like counters; they are embedded in each daemon (not in Redis) and kept by state snapshots.
 * Deterministic: the time is the decision's. */
#ifndef VD_PROFILE_H
#define VD_PROFILE_H

#include "store.h"

#include <stddef.h>
#include <stdint.h>

#define VD_PROFILE_SLOTS     24
#define VD_PROFILE_PER_ATTR  8
#define VD_PROFILE_MAX_ATTRS 8
#define VD_PROFILE_BYTES     632 /* the record (a static assertion in profile.c checks it) */

typedef struct vd_profile_attr {
    const char *name, *value;
    size_t nlen, vlen;
} vd_profile_attr_t;

/* What the profile knew of one attribute's value before this event. */
typedef struct vd_profile_seen {
    int known;         /* the value came before (and has not decayed away) */
    double count;      /* its decayed count */
    double total;      /* the decayed count of every value of the attribute */
    double share;      /* count / total, 0 when total is 0 */
    int64_t last_seen; /* when it last came, 0 when unknown */
    uint32_t values;   /* values the profile holds for the attribute */
} vd_profile_seen_t;

typedef struct vd_profile_answer {
    uint32_t events;               /* events before this one */
    int64_t first_seen, last_seen; /* 0 when there were none */
    int had_place;                 /* the last event with a place, and where: */
    double last_lat, last_lon;
    int64_t last_place_at;
    vd_profile_seen_t seen[VD_PROFILE_MAX_ATTRS]; /* in the order of the attributes */
} vd_profile_answer_t;

typedef struct vd_profile_opts {
    int64_t half_life_s; /* a count halves in this long; 0: 30 days */
    int read_only;       /* answer without adding the event */
    int has_place;       /* lat, lon: where this event comes from */
    double lat, lon;
} vd_profile_opts_t;

/* Answers for entity at time now (seconds) what its profile says of attrs[0..n) (n at most
 * VD_PROFILE_MAX_ATTRS), then adds the event unless o->read_only. Returns 0, VD_EINVAL (too
 * many attributes) or VD_ENOMEM. */
int vd_profile_observe(vd_store_t *s, const char *entity, size_t len, int64_t now,
                       const vd_profile_attr_t *attrs, size_t n, const vd_profile_opts_t *o,
                       vd_profile_answer_t *out);

/* The great-circle distance in km between two points (degrees). */
double vd_geo_distance_km(double lat1, double lon1, double lat2, double lon2);

#endif
