/* Anomaly models of keyed series ("signups:asn:64500", "login:fail:acct:alice"): each key has
 * its own streaming model (anomaly_model.h) that scores each new value of the series and learns
 * from it. The models are records of the embedded store (store.h): shared by every worker,
 * counted against the store's memory cap, evicted least recently used first like counters (a
 * cold series that comes back starts learning again), and kept by state snapshots. With Redis,
 * the values of a series are the shared counters and each daemon keeps its own models of them
 * here. */
#ifndef VD_ANOMALY_H
#define VD_ANOMALY_H

#include "anomaly_model.h"
#include "store.h"

#include <stddef.h>
#include <stdint.h>

/* Scores value at time t (Unix seconds) in the series key and fills *out. The model learns
 * from it when every is 0, or when t falls in another period of every seconds than the last
 * value it learnt (a rule calls this on every request, but a series is a value per period:
 * the other calls are scored on a copy, the model unchanged). A new key starts a model (out
 * then says "learning"). Safe from any thread. Returns 0, VD_EINVAL (a value that is not a
 * number or beyond VD_ANOMALY_VALUE_MAX in magnitude: nothing made or changed) or VD_ENOMEM. */
int vd_anomaly_observe(vd_store_t *s, const char *key, size_t len, int64_t t, double value,
                       int64_t every, vd_anomaly_result_t *out);

/* Copies the model of key into *out without touching it. Returns 0 or VD_ENOTFOUND. */
int vd_anomaly_get(vd_store_t *s, const char *key, size_t len, vd_anomaly_model_t *out);

#endif
