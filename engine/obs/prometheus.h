/* Rendering stats in the Prometheus text exposition format (version 0.0.4). */
#ifndef VD_PROMETHEUS_H
#define VD_PROMETHEUS_H

#include "../core/stats.h"

#include <stddef.h>

/* Renders the metrics into a new NUL-terminated buffer (*out, *len); the caller frees it.
 * Returns 0 or -1 when out of memory. */
int vd_prometheus_render(const vd_stats_snapshot_t *s, const vd_stats_globals_t *g, char **out,
                         size_t *len);

#endif
