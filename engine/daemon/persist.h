/* State persistence for the embedded store and the campaign index (--state-snapshot): the
 * snapshot is read at start,
 * before serving; one is written every interval on the libuv thread pool, off every event loop;
 * the last one is written at shutdown, once every worker has drained. A failed write is logged
 * once (and again when its reason changes or writing works again) and counted; the daemon goes
 * on serving from memory. */
#ifndef VD_PERSIST_H
#define VD_PERSIST_H

#include "state/campaign.h"
#include "state/snapshot_file.h"
#include "state/store.h"

#include <pthread.h>
#include <stddef.h>
#include <uv.h>

typedef struct vd_persist {
    vd_store_t *store;
    vd_campaigns_t *campaigns; /* kept in the same file; NULL: not kept */
    const char *path;          /* NULL: snapshots are off and every call does nothing */
    int interval_s;            /* 0: only at shutdown */
    uv_timer_t timer;
    int timer_on;
    uv_work_t work; /* the interval's write, on the thread pool */
    int busy;       /* a write is on the pool: the next tick skips */
    int skipped;    /* ticks skipped in a row (the first is logged as a warning) */
    int rc;         /* what the pool's write returned, with info and err */
    vd_state_snapshot_info_t info;
    char err[256];
    int failing;          /* writes failed in a row; the first reason was logged */
    char logged[256];     /* that reason */
    pthread_mutex_t lock; /* guards stats: the loop writes them, any thread reads */
    int ready;            /* init ran: lock exists */
    vd_state_snapshot_stats_t stats;
} vd_persist_t;

/* Prepares snapshots at path (NULL: off) for store and campaigns, and loads the snapshot there
 * into them.
 * No file yet: the store starts empty. A file that is not a whole snapshot this build reads
 * (truncated, corrupt, another version) is moved aside to path.bad, logged as an error and
 * counted, and the store starts empty: a damaged file must not keep the daemon down, and its
 * bytes stay for inspection. Returns 0, or an error with err filled when path cannot be used
 * (its directory missing or not writable, the file unreadable) or memory ran out: the daemon
 * then refuses to start. */
int vd_persist_init(vd_persist_t *p, vd_store_t *store, vd_campaigns_t *campaigns, const char *path,
                    int interval_s, char *err, size_t errlen);

/* Starts the interval timer on loop (the engine's main loop). */
void vd_persist_start(vd_persist_t *p, uv_loop_t *loop);

/* Stops the interval timer (draining has begun); a write on the pool finishes on its own. */
void vd_persist_stop(vd_persist_t *p);

/* Writes the last snapshot, on the calling thread: after every worker has stopped, so that
 * it holds every decision's effect. */
void vd_persist_final(vd_persist_t *p);

/* Copies the figures into out (any thread). */
void vd_persist_stats(vd_persist_t *p, vd_state_snapshot_stats_t *out);

/* Frees what init made (after the loop has ended). */
void vd_persist_close(vd_persist_t *p);

#endif
