/* A minimal HTTP endpoint serving GET /metrics (Prometheus text) on the main loop. */
#ifndef VD_METRICS_HTTP_H
#define VD_METRICS_HTTP_H

#include "serve/snapshot.h"

#include <stddef.h>
#include <uv.h>

typedef struct vd_metrics vd_metrics_t;

/* Fills snap with the figures to render; 0 or a negative VD_E* code. Called on the loop. */
typedef int (*vd_metrics_snapshot_fn)(void *ud, vd_stats_snapshot_t *snap);

/* Listens on "HOST:PORT" ("127.0.0.1:9464", "[::1]:9464"); each scrape renders what snapshot
 * returns. Returns 0, or a negative VD_E* code with err filled. */
int vd_metrics_start(uv_loop_t *loop, vd_metrics_snapshot_fn snapshot, void *ud, const char *addr,
                     vd_metrics_t **out, char *err, size_t errlen);

/* Stops listening and closes client connections (idempotent; NULL allowed). The memory is
 * freed once the handles have closed. */
void vd_metrics_stop(vd_metrics_t *m);

#endif
