/* Anomaly models of many keyed series ("signups:asn:64500", "mail:out:acct:alice"), shared by
 * every worker of the process: each key has its own streaming model (anomaly_model.h) that
 * scores each new value of the series and learns from it. As the embedded store does, the keys
 * are split over shards with a lock each, memory is capped, and past the cap the series used
 * least recently are evicted (and counted): a cold series that comes back starts learning again.
 * With Redis, the values of a series are the shared counters and each daemon keeps its own
 * models of them here. */
#ifndef VD_ANOMALY_H
#define VD_ANOMALY_H

#include "anomaly_model.h"

#include <stddef.h>
#include <stdint.h>

#define VD_ANOMALY_SHARDS 64 /* each with its own lock */

typedef struct vd_anomaly vd_anomaly_t;

typedef struct vd_anomaly_stats {
    uint64_t series;    /* models held */
    uint64_t bytes;     /* their memory, keys and bookkeeping included */
    uint64_t evictions; /* models dropped for the cap */
    uint64_t observed;  /* values scored */
} vd_anomaly_stats_t;

/* A set of series models holding at most max_bytes (as vd_anomaly_series_bytes counts them).
 * NULL when out of memory. */
vd_anomaly_t *vd_anomaly_new(size_t max_bytes);

/* Frees every model. No call may be running. */
void vd_anomaly_free(vd_anomaly_t *a);

/* The bytes one series with a key of keylen bytes counts against the cap: its model, its key
 * and the table's bookkeeping. */
size_t vd_anomaly_series_bytes(size_t keylen);

/* Scores value at time t (Unix seconds) in the series key, fills *out, then learns from it (a
 * new key starts a model; out then says "learning"). Safe from any thread. Returns 0,
 * VD_EINVAL (a value that is not a number or beyond VD_ANOMALY_VALUE_MAX in
 * magnitude: nothing changes) or VD_ENOMEM. */
int vd_anomaly_observe(vd_anomaly_t *a, const char *key, size_t len, int64_t t, double value,
                       vd_anomaly_result_t *out);

/* Copies the model of key into *out without touching it (a read for snapshots, the admin
 * socket, tests). Returns 0 or VD_ENOTFOUND. */
int vd_anomaly_get(vd_anomaly_t *a, const char *key, size_t len, vd_anomaly_model_t *out);

/* Totals over every shard (each read under its lock). */
void vd_anomaly_stats(vd_anomaly_t *a, vd_anomaly_stats_t *out);

#endif
