/* Writing a state snapshot (the format is in snapshot_file.h). */
#ifndef VD_SNAPSHOT_WRITE_H
#define VD_SNAPSHOT_WRITE_H

#include "campaign.h"
#include "snapshot_file.h"
#include "store.h"

#include <stddef.h>
#include <stdint.h>

/* Writes every entry of s still alive at now (wall-clock seconds), then every campaign of c
 * (NULL: none), to path: into path.tmp in the
 * same directory, fsync, rename over path, fsync the directory, so that path always holds a
 * whole snapshot, the previous one or this one, whenever the process or the machine stops.
 * Entries are copied a few at a time, each step holding one shard's lock (vd_store_walk_t),
 * campaigns a shard at a time;
 * the file is written and synced outside every lock. Any thread; one write per path at a time.
 * Fills info. Returns 0, VD_ENOMEM, or VD_EIO with err naming the file, the step and the
 * system's reason (also when another snapshot of the store is being written); path.tmp is then
 * removed and path left as it was. */
int vd_state_snapshot_write(vd_store_t *s, vd_campaigns_t *c, const char *path, int64_t now,
                            vd_state_snapshot_info_t *info, char *err, size_t errlen);

#endif
