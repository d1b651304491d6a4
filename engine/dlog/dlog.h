/* The decision log: every worker writes each decision's record, one JSON line, into its own
 * ring without waiting (in place, or copied in); one writer thread gathers the lines and writes
 * them to the sink. When a ring is full the newest record is dropped and counted: a slow disk
 * or a stalled reader never slows decisions. See docs/decision-log.md. */
#ifndef VD_DLOG_H
#define VD_DLOG_H

#include "base/stats.h"
#include "ring.h"
#include "sink.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

typedef struct vd_dlog_config {
    vd_dlog_sink_config_t sink;
    size_t ring_bytes; /* per worker */
    int nrings;        /* one per worker */
} vd_dlog_config_t;

/* One worker's side: its ring and what it dropped (that worker is the only writer). */
typedef struct vd_dlog_lane {
    vd_dlog_ring_t ring;
    vd_counter_t submitted, dropped;
} vd_dlog_lane_t;

typedef struct vd_dlog_stats {
    uint64_t records, dropped_full, dropped_sink, bytes, rotations, reopens, write_errors;
    uint64_t manifests;
    uint64_t buffered; /* bytes waiting in the rings and the writer now */
} vd_dlog_stats_t;

typedef struct vd_dlog vd_dlog_t;

/* Opens the sink and starts the writer thread. Returns 0, or a VD_E* code with err set (the
 * path cannot be opened: verdictd refuses to start rather than lose every record). */
int vd_dlog_start(vd_dlog_t **out, const vd_dlog_config_t *cfg, char *err, size_t errlen);

/* Worker i's lane. */
vd_dlog_lane_t *vd_dlog_lane(vd_dlog_t *l, int i);

/* Worker: queues one record (rec[0..n), one JSON line with its newline). Returns 0, or -1
 * when the lane is full or rec is NULL (a record that could not be made): the record is then
 * dropped and counted. */
int vd_dlog_submit(vd_dlog_lane_t *lane, const void *rec, size_t n);

/* Worker: the same without a copy. Room for a record of at most most bytes in the lane, to be
 * written in place and queued by vd_dlog_commit; NULL when the lane has not that much free now
 * (nothing is counted: the caller makes the record elsewhere and submits it). */
char *vd_dlog_reserve(vd_dlog_lane_t *lane, size_t most);

/* Worker: queues the record of n bytes written where vd_dlog_reserve said. */
void vd_dlog_commit(vd_dlog_lane_t *lane, size_t n);

/* Any thread: what the policy now serving is made of (a packed msgpack map: its version, files
 * and plugin stages; copied). The writer puts a manifest line ({"type": "manifest", ...}: that
 * map, and every list file's version and hash) before the records that follow, again whenever
 * a list changes, and at the top of every file it opens. Returns 0 or VD_ENOMEM. */
int vd_dlog_set_policy(vd_dlog_t *l, const char *packed, size_t n);

/* Any thread: the writer reopens the path before its next write (SIGHUP, after logrotate). */
void vd_dlog_reopen(vd_dlog_t *l);

/* Any thread: the figures for stats and Prometheus. */
void vd_dlog_stats(vd_dlog_t *l, vd_dlog_stats_t *st);

/* Writes everything queued (waiting at most wait_ms for a stalled sink; what is still queued
 * then is dropped and counted), stops the writer and frees l. Call once workers have stopped
 * submitting. */
void vd_dlog_stop(vd_dlog_t *l, int wait_ms);

/* From a crash handler (async-signal-safe): no new write starts, and a write in progress is
 * given up to 200 ms to finish, so the file is not left with a line cut short. */
void vd_dlog_crashing(vd_dlog_t *l);

#endif
