/* Replaying recorded decisions (or exported events) through a candidate policy, offline:
 * `verdict replay` (docs/backtesting.md). Lines are read, parsed and decided on several
 * threads; a decision that needs the replay's own state (what its record cannot answer) is made
 * again on the calling thread, in input order, so that state evolves in event time the same
 * way at every run: the same input and policy always give the same output. */
#ifndef VD_REPLAY_H
#define VD_REPLAY_H

#include "exec/offline.h"
#include "record.h"

#include <stddef.h>
#include <stdint.h>

typedef struct vd_replay_config {
    const char *policy_dir;   /* the candidate */
    const char *baseline_dir; /* compared against this policy; NULL: against the records */
    const char *data_dir;
    const char *const *plugin_dirs;
    size_t nplugin_dirs;
    int reuse_state;      /* answer state reads the record has from it (default) */
    int reuse_plugins;    /* answer plugin stages the record has from it (default) */
    const char *snapshot; /* state to start from (--state-snapshot's format); NULL: empty */
    size_t state_bytes;   /* memory cap of each policy's state; 0: 256 MiB */
    vd_replay_input_t input;
    int threads; /* threads that read and decide; 0: one per CPU */
} vd_replay_config_t;

/* One replayed decision, handed to the caller in input order. The decisions are result maps,
 * as a decide reply's (docs/protocol.md), like a record's decision. */
typedef struct vd_replay_out {
    const vd_replay_rec_t *rec;
    const char *file;
    long line;
    const msgpack_object *before; /* the baseline policy's; NULL: compare with rec->decided */
    const msgpack_object *after;  /* the candidate's */
} vd_replay_out_t;

typedef int (*vd_replay_fn)(void *ud, const vd_replay_out_t *out);

typedef struct vd_replay_stats {
    uint64_t lines, replayed, skipped; /* skipped: lines not read (reported on stderr) */
    uint64_t failed;                   /* decisions that failed (an error, not a decision) */
    uint64_t again; /* made again in order, with the replay's state (the record lacked it) */
    double seconds;
} vd_replay_stats_t;

/* Replays the files ("-": stdin) in order, calling fn for each decision. A line that cannot be
 * read is reported on stderr (FILE:LINE: why) and skipped. Returns 0, or a VD_E* code with err
 * set when a policy does not load or a file cannot be opened, or what fn returned when it
 * stopped the replay (not 0). */
int vd_replay_run(const vd_replay_config_t *cfg, const char *const *files, size_t nfiles,
                  vd_replay_fn fn, void *ud, vd_replay_stats_t *stats, char *err, size_t errlen);

#endif
