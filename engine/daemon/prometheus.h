/* Rendering stats in the Prometheus text exposition format (version 0.0.4). */
#ifndef VD_PROMETHEUS_H
#define VD_PROMETHEUS_H

#include "serve/snapshot.h"

#include <stddef.h>

/* Renders the metrics of snap (and the list files, read from their registry) into a new
 * NUL-terminated buffer (*out, *len); the caller frees it. Returns 0 or -1 when out of memory. */
int vd_prometheus_render(const vd_stats_snapshot_t *snap, char **out, size_t *len);

#endif
