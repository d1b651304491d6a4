/* The state snapshot file: the embedded store's counters, distinct counts and labels on disk,
 * so that a restart does not reset the limits attackers probe for (docs/operations.md, "State
 * persistence"). Version 1, every integer little-endian:
 *
 *   header   magic "VDSTATE\0" (8 bytes), u32 version, u8 windows, u8 buckets per window,
 *            u16 registers per distinct count, i64 seconds of each window, i64 written at
 *            (wall clock)
 *   records  u8 kind (1 counter, 2 distinct count, 3 label, 4 record, 5 campaign), u32 key
 *            length (0 for a campaign), i64 expires (wall clock, 0 never), the key, then the
 *            payload:
 *              counter   per window: u32 head, u32 count per bucket
 *              distinct  u16 n registers that are not 0; when 3 n < registers, n pairs
 *                        (u16 index, ascending; u8 value), else every register as a u8
 *              label     nothing
 *              record    u32 length, then the bytes as the module keeping them wrote them
 *                        (behaviour profiles: their C layout, so a file is read back on the
 *                        architecture that wrote it)
 *              campaign  u32 length, then the campaign as state/campaign.h saves it (its C
 *                        layout too), after every entry of the store
 *   trailer  u8 0, u64 number of records, u64 XXH3-64 of every byte before it
 *
 * Changing it: any change to the header, the records or the store's layout (windows, buckets,
 * registers) raises VD_SNAPSHOT_VERSION, and the release notes say so. A reader loads its own
 * version and versions 1 and 2 (2 only added records, 3 campaigns); a file of another one is
 * set aside and the daemon starts empty (docs/operations.md, "State persistence"), so keep
 * the change rare or add a converter here.
 *
 * Times are wall-clock seconds, as the store keeps them, so an entry whose time passed while
 * the daemon was down is not loaded and windows go on sliding as if it had run. The records of
 * each shard come least recently used first, so that loading rebuilds the eviction order. */
#ifndef VD_SNAPSHOT_FILE_H
#define VD_SNAPSHOT_FILE_H

#include "store.h"

#include <stddef.h>
#include <stdint.h>

#define VD_SNAPSHOT_MAGIC         "VDSTATE" /* with its NUL: 8 bytes */
#define VD_SNAPSHOT_VERSION       3
#define VD_SNAPSHOT_HEADER        (8 + 4 + 4 + 8 * VD_WINDOWS + 8)
#define VD_SNAPSHOT_VERSION_AT    8            /* where the version is, for tests */
#define VD_SNAPSHOT_WINDOWS_AT    ((size_t)16) /* the window lengths, then the time written */
#define VD_SNAPSHOT_WRITTEN_AT    (VD_SNAPSHOT_WINDOWS_AT + (size_t)8 * VD_WINDOWS)
#define VD_SNAPSHOT_COUNTER_BYTES ((size_t)VD_WINDOWS * 4 * (1 + VD_STORE_BUCKETS)) /* payload */
#define VD_SNAPSHOT_RECORD_HEAD   (1 + 4 + 8) /* kind, key length, expires */
#define VD_SNAPSHOT_TRAILER       (1 + 8 + 8) /* end mark, records, checksum */
#define VD_SNAPSHOT_MAX_KEY       (1 << 20)   /* longer is corruption, not a key */

enum {
    VD_SNAPSHOT_END = 0,
    VD_SNAPSHOT_COUNTER = 1,
    VD_SNAPSHOT_DISTINCT = 2,
    VD_SNAPSHOT_LABEL = 3,
    VD_SNAPSHOT_RECORD = 4,
    VD_SNAPSHOT_CAMPAIGN = 5
};

/* What one write or read did. */
typedef struct vd_state_snapshot_info {
    uint64_t entries;        /* written, or loaded */
    uint64_t expired;        /* read: records left out because their time had passed */
    uint64_t skipped;        /* read: campaigns another build wrote in its layout, left out */
    uint64_t bytes;          /* the file's size */
    int64_t written_at;      /* wall clock of the write (read: from the file's header) */
    int64_t elapsed_ns;      /* the whole operation, fsyncs included */
    int64_t longest_lock_ns; /* write: the longest time one shard was held for copying */
} vd_state_snapshot_info_t;

/* A daemon's snapshots since it started, for stats and Prometheus. */
typedef struct vd_state_snapshot_stats {
    const char *path; /* NULL: snapshots are off */
    int interval_s;   /* 0: only at shutdown */
    uint64_t writes, failures;
    vd_state_snapshot_info_t last;                /* the last successful write */
    char last_error[256];                         /* of the last write, "" when it succeeded */
    uint64_t loaded, load_expired, load_failures; /* at start: load_failures is 0 or 1 */
    char load_error[512];                         /* why the file at start was refused */
    int64_t loaded_written_at; /* when the file loaded at start was written; 0: none */
} vd_state_snapshot_stats_t;

/* A distinct count with n registers that are not 0 is written as (index, value) pairs when
 * that is shorter than all its registers. */
static inline int vd_snapshot_sparse(size_t n) {
    return 3 * n < VD_STORE_HLL_REGS;
}

static inline void vd_le_put(uint8_t *p, uint64_t v, int bytes) {
    for (int i = 0; i < bytes; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

static inline uint64_t vd_le_get(const uint8_t *p, int bytes) {
    uint64_t v = 0;
    for (int i = 0; i < bytes; i++)
        v |= (uint64_t)p[i] << (8 * i);
    return v;
}

#endif
