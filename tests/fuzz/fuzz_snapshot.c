/* libFuzzer target: state snapshot files, read at start from a disk that may hold anything.
 * The first byte's low bit asks for the checksum to be made right, so that the fuzzer reaches
 * the records behind it, and its other bits pick the time the file is read at; the rest is the
 * file. Whatever loads (store entries and campaigns) must write out and read back to the same
 * entries. */
#include "state/snapshot_read.h"
#include "state/snapshot_write.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <xxhash.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define T0 1767225600

static uint64_t entries(vd_store_t *s, vd_campaigns_t *c) {
    vd_store_stats_t st;
    vd_campaign_stats_t cs[VD_CAMPAIGN_KINDS];
    vd_store_stats(s, &st);
    vd_campaigns_stats(c, cs);
    return st.entries + cs[0].entries + cs[1].entries;
}

/* What loaded is written and read again: the same number of entries comes back. */
static void round_trip(vd_store_t *s, vd_campaigns_t *c, int64_t now) {
    char dir[] = "/tmp/vd-fuzz-snapshot-XXXXXX", path[64], err[512];
    if (!mkdtemp(dir)) return;
    snprintf(path, sizeof path, "%s/s", dir);
    vd_state_snapshot_info_t info;
    vd_store_t *again = vd_store_new(1 << 20);
    vd_campaigns_t *c2 = vd_campaigns_new(1 << 20);
    if (vd_state_snapshot_write(s, c, path, now, &info, err, sizeof err) != 0 || !again || !c2 ||
        vd_state_snapshot_read(again, c2, path, now, &info, err, sizeof err) != 0 ||
        entries(again, c2) != entries(s, c))
        abort();
    vd_campaigns_free(c2);
    vd_store_free(again);
    unlink(path);
    rmdir(dir);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size < 1) return 0;
    size_t len = size - 1;
    uint8_t *file = malloc(len ? len : 1);
    if (!file) return 0;
    memcpy(file, data + 1, len);
    if ((data[0] & 1) && len >= 8) vd_le_put(file + len - 8, XXH3_64bits(file, len - 8), 8);
    int64_t now = T0 + (int64_t)(data[0] >> 1) * 3600;
    vd_store_t *s = vd_store_new(1 << 20);
    vd_campaigns_t *c = vd_campaigns_new(1 << 20);
    vd_state_snapshot_info_t info;
    char err[512];
    if (s && c && vd_state_snapshot_load(s, c, file, len, now, &info, err, sizeof err) == 0)
        round_trip(s, c, now);
    vd_campaigns_free(c);
    vd_store_free(s);
    free(file);
    return 0;
}
