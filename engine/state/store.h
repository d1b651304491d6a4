/* The embedded state store: sliding-window counters, distinct counts (HyperLogLog) and labels
 * with expiry, shared by every worker of the process. The keys are split over shards, each
 * with its own lock, so that workers rarely wait for one another; memory is capped, and the
 * least recently used entries are evicted past the cap. */
#ifndef VD_STORE_H
#define VD_STORE_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

/* The windows every counter keeps at once. */
#define VD_WINDOWS 3
extern const int64_t vd_window_seconds[VD_WINDOWS];   /* 60, 3600, 86400 */
extern const char *const vd_window_names[VD_WINDOWS]; /* "1m", "1h", "24h" */

typedef struct vd_store vd_store_t;

typedef struct vd_store_stats {
    uint64_t entries, bytes, evictions, expired;
} vd_store_stats_t;

/* A store holding at most max_bytes of entries (keys included). NULL when out of memory. */
vd_store_t *vd_store_new(size_t max_bytes);
void vd_store_free(vd_store_t *s);

/* Adds n at time now (seconds) to the counter key; fills counts[VD_WINDOWS] with the totals of
 * the windows after the addition (n = 0 only reads). Returns 0 or VD_ENOMEM. */
int vd_store_count(vd_store_t *s, const char *key, size_t len, uint32_t n, int64_t now,
                   uint64_t counts[VD_WINDOWS]);

/* Adds value to the distinct set key (n = NULL only reads); *estimate is the approximate number
 * of distinct values seen (HyperLogLog, 1,024 registers: about 3% error). The set expires
 * after ttl seconds without additions (0: never). Returns 0 or VD_ENOMEM. */
int vd_store_distinct(vd_store_t *s, const char *key, size_t len, const char *value, size_t vlen,
                      int64_t now, int64_t ttl, double *estimate);

/* Sets a label until now + ttl (ttl <= 0 removes it). Returns 0 or VD_ENOMEM. */
int vd_store_label(vd_store_t *s, const char *key, size_t len, int64_t now, int64_t ttl);

/* Seconds the label has left at now, or 0 when it is not set. */
int64_t vd_store_label_ttl(vd_store_t *s, const char *key, size_t len, int64_t now);

/* Totals over every shard (each read under its lock, so consistent per shard). */
void vd_store_stats(vd_store_t *s, vd_store_stats_t *out);

#endif
