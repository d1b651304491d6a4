/* Reading a state snapshot back into a store (the format is in snapshot_file.h). */
#ifndef VD_SNAPSHOT_READ_H
#define VD_SNAPSHOT_READ_H

#include "campaign.h"
#include "snapshot_file.h"
#include "store.h"

#include <stddef.h>
#include <stdint.h>

/* Loads the snapshot at path into s (an empty store, at start), and its campaigns into c (an
 * empty index; NULL: they are checked and left out). The whole file is checked
 * first: magic, version, checksum, the store's layout, every record and the trailer; nothing
 * is loaded from a file that fails a check. Then every entry whose time has not passed at now
 * (wall-clock seconds) is restored; the others are counted in info->expired. Returns 0;
 * VD_ENOTFOUND when path does not exist; VD_EIO when it cannot be read; VD_EPROTO when it is
 * not a whole snapshot this build reads (not a snapshot, another version, truncated, corrupt);
 * VD_ENOMEM. On failure err names the file and the problem. */
int vd_state_snapshot_read(vd_store_t *s, vd_campaigns_t *c, const char *path, int64_t now,
                           vd_state_snapshot_info_t *info, char *err, size_t errlen);

/* The same over a snapshot's bytes in memory; err does not name a file. */
int vd_state_snapshot_load(vd_store_t *s, vd_campaigns_t *c, const uint8_t *data, size_t len,
                           int64_t now, vd_state_snapshot_info_t *info, char *err, size_t errlen);

#endif
