/* Rendering stats in the Prometheus text exposition format (version 0.0.4). */
#ifndef VD_PROMETHEUS_H
#define VD_PROMETHEUS_H

#include "../core/stats.h"
#include "../state/redis.h"
#include "../state/store.h"

#include <stddef.h>

/* The state figures (the list files are read from their registry). */
typedef struct {
    vd_store_stats_t store;
    int redis; /* the Redis backend is on: totals below */
    vd_redis_totals_t totals;
} vd_state_metrics_t;

/* Renders the metrics into a new NUL-terminated buffer (*out, *len); the caller frees it.
 * Returns 0 or -1 when out of memory. */
int vd_prometheus_render(const vd_stats_snapshot_t *s, const vd_stats_globals_t *g,
                         const vd_state_metrics_t *st, char **out, size_t *len);

#endif
