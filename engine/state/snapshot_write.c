#include "snapshot_write.h"

#include "base/clock.h"
#include "base/error.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <xxhash.h>

/* Entries copied per step of the walk: each step holds one shard's lock, so this bounds what a
 * worker can wait for (tens of microseconds; docs/operations.md has the figures). */
#define STEP_ENTRIES 64
/* Bytes gathered before a write: memory stays small whatever the store holds. */
#define FLUSH_BYTES (256 << 10)

/* Bytes on their way to the file. */
typedef struct out {
    uint8_t *data;
    size_t len, cap;
    uint64_t records, bytes;
    int fd;
    XXH3_state_t *hash;
} out_t;

/* Room for n more bytes, or NULL when out of memory. */
static uint8_t *reserve(out_t *o, size_t n) {
    if (o->cap - o->len < n) {
        size_t cap = o->cap ? o->cap : 1 << 16;
        while (cap - o->len < n)
            cap *= 2;
        uint8_t *data = realloc(o->data, cap);
        if (!data) return NULL;
        o->data = data;
        o->cap = cap;
    }
    return o->data + o->len;
}

static size_t put_registers(uint8_t *p, const uint8_t *regs) {
    size_t n = 0, at = 2;
    for (int i = 0; i < VD_STORE_HLL_REGS; i++)
        n += regs[i] != 0;
    vd_le_put(p, n, 2);
    if (!vd_snapshot_sparse(n)) {
        memcpy(p + at, regs, VD_STORE_HLL_REGS);
        return at + VD_STORE_HLL_REGS;
    }
    for (int i = 0; i < VD_STORE_HLL_REGS; i++) {
        if (!regs[i]) continue;
        vd_le_put(p + at, (uint64_t)i, 2);
        p[at + 2] = regs[i];
        at += 3;
    }
    return at;
}

static size_t put_windows(uint8_t *p, const vd_store_window_t *w) {
    size_t at = 0;
    for (int i = 0; i < VD_WINDOWS; i++) {
        vd_le_put(p + at, w[i].head, 4);
        at += 4;
        for (int b = 0; b < VD_STORE_BUCKETS; b++, at += 4)
            vd_le_put(p + at, w[i].count[b], 4);
    }
    return at;
}

/* The store's visitor: runs under a shard's lock, so it only copies. */
static int put_item(void *ud, const vd_store_item_t *it) {
    static const uint8_t kinds[] = {[VD_STORE_COUNTER] = VD_SNAPSHOT_COUNTER,
                                    [VD_STORE_DISTINCT] = VD_SNAPSHOT_DISTINCT,
                                    [VD_STORE_LABEL] = VD_SNAPSHOT_LABEL,
                                    [VD_STORE_RECORD] = VD_SNAPSHOT_RECORD};
    out_t *o = ud;
    size_t most = VD_SNAPSHOT_RECORD_HEAD + it->keylen + 2 + VD_STORE_HLL_REGS +
                  VD_SNAPSHOT_COUNTER_BYTES + 4 + it->payload_len;
    uint8_t *p = reserve(o, most);
    if (!p) return VD_ENOMEM;
    p[0] = kinds[it->kind];
    vd_le_put(p + 1, it->keylen, 4);
    vd_le_put(p + 5, (uint64_t)it->expires, 8);
    memcpy(p + VD_SNAPSHOT_RECORD_HEAD, it->key, it->keylen);
    size_t at = VD_SNAPSHOT_RECORD_HEAD + it->keylen;
    if (it->kind == VD_STORE_COUNTER) at += put_windows(p + at, it->windows);
    if (it->kind == VD_STORE_DISTINCT) at += put_registers(p + at, it->regs);
    if (it->kind == VD_STORE_RECORD) {
        vd_le_put(p + at, it->payload_len, 4);
        memcpy(p + at + 4, it->payload, it->payload_len);
        at += 4 + (size_t)it->payload_len;
    }
    o->len += at;
    o->records++;
    return 0;
}

static void put_header(uint8_t *p, int64_t now) {
    memcpy(p, VD_SNAPSHOT_MAGIC, 8);
    vd_le_put(p + VD_SNAPSHOT_VERSION_AT, VD_SNAPSHOT_VERSION, 4);
    p[12] = VD_WINDOWS;
    p[13] = VD_STORE_BUCKETS;
    vd_le_put(p + 14, VD_STORE_HLL_REGS, 2);
    for (int w = 0; w < VD_WINDOWS; w++)
        vd_le_put(p + VD_SNAPSHOT_WINDOWS_AT + 8 * (size_t)w, (uint64_t)vd_window_seconds[w], 8);
    vd_le_put(p + VD_SNAPSHOT_WRITTEN_AT, (uint64_t)now, 8);
}

/* Hashes and writes what the buffer holds, then empties it. Returns 0 or errno. */
static int flush(out_t *o) {
    XXH3_64bits_update(o->hash, o->data, o->len);
    for (size_t done = 0; done < o->len;) {
        ssize_t n = write(o->fd, o->data + done, o->len - done);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) return errno;
        done += (size_t)n;
    }
    o->bytes += o->len;
    o->len = 0;
    return 0;
}

/* The trailer: the end mark and the count are hashed, the checksum is not. */
static int put_trailer(out_t *o) {
    uint8_t *p = reserve(o, VD_SNAPSHOT_TRAILER);
    if (!p) return ENOMEM;
    p[0] = VD_SNAPSHOT_END;
    vd_le_put(p + 1, o->records, 8);
    o->len += 9;
    int rc = flush(o);
    if (rc) return rc;
    vd_le_put(o->data, XXH3_64bits_digest(o->hash), 8);
    o->len = 8;
    return flush(o);
}

/* fsync of the directory holding path, so that the rename itself survives a power loss. */
static int sync_dir(const char *path) {
    char dir[PATH_MAX];
    const char *slash = strrchr(path, '/');
    if (!slash)
        snprintf(dir, sizeof dir, ".");
    else
        snprintf(dir, sizeof dir, "%.*s", slash == path ? 1 : (int)(slash - path), path);
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) return errno;
    int rc = fsync(fd) == 0 ? 0 : errno;
    close(fd);
    return rc;
}

/* The campaign index's visitor: runs under a campaign shard's lock, so it only copies. */
static int put_campaign(void *ud, const void *saved, size_t len, int64_t expires) {
    out_t *o = ud;
    uint8_t *p = reserve(o, VD_SNAPSHOT_RECORD_HEAD + 4 + len);
    if (!p) return VD_ENOMEM;
    p[0] = VD_SNAPSHOT_CAMPAIGN;
    vd_le_put(p + 1, 0, 4);
    vd_le_put(p + 5, (uint64_t)expires, 8);
    vd_le_put(p + VD_SNAPSHOT_RECORD_HEAD, len, 4);
    memcpy(p + VD_SNAPSHOT_RECORD_HEAD + 4, saved, len);
    o->len += VD_SNAPSHOT_RECORD_HEAD + 4 + len;
    o->records++;
    return 0;
}

/* Every campaign, a shard at a time under its lock, written between shards; the longest a
 * shard was held counts with the store's. */
static int write_campaigns(vd_campaigns_t *c, out_t *o, int64_t now,
                           vd_state_snapshot_info_t *info) {
    for (int i = 0; c && i < VD_CAMPAIGN_SHARDS; i++) {
        int64_t t0 = vd_now_ns();
        int rc = vd_campaigns_save(c, i, now, put_campaign, o);
        int64_t held = vd_now_ns() - t0;
        if (held > info->longest_lock_ns) info->longest_lock_ns = held;
        if (rc) return ENOMEM;
        if (o->len >= FLUSH_BYTES && (rc = flush(o)) != 0) return rc;
    }
    return flush(o);
}

/* Every entry, copied a few at a time under its shard's lock and written outside every lock. */
static int write_entries(vd_store_t *s, out_t *o, int64_t now, vd_state_snapshot_info_t *info) {
    vd_store_walk_t *w;
    int rc = vd_store_walk_new(s, now, &w);
    if (rc) return rc == VD_EBUSY ? EBUSY : ENOMEM;
    while ((rc = vd_store_walk_step(w, STEP_ENTRIES, put_item, o)) == 1)
        if (o->len >= FLUSH_BYTES && (rc = flush(o)) != 0) break;
    if (rc == VD_ENOMEM) rc = ENOMEM;
    if (rc == 0) rc = flush(o);
    info->longest_lock_ns = vd_store_walk_longest_hold_ns(w);
    vd_store_walk_free(w);
    return rc;
}

static int fail(int rc, char *err, size_t errlen, const char *file, const char *step, int errnum) {
    snprintf(err, errlen, "%s: %s: %s", file, step, strerror(errnum));
    return rc;
}

/* The file's content, into o->fd. Returns 0 or errno; *step says what failed. */
static int write_content(vd_store_t *s, vd_campaigns_t *c, out_t *o, int64_t now,
                         vd_state_snapshot_info_t *info, const char **step) {
    *step = "write";
    uint8_t *p = reserve(o, VD_SNAPSHOT_HEADER);
    if (!p) return ENOMEM;
    put_header(p, now);
    o->len = VD_SNAPSHOT_HEADER;
    int rc = flush(o);
    if (rc == 0) rc = write_entries(s, o, now, info);
    if (rc == 0) rc = write_campaigns(c, o, now, info);
    if (rc == 0) rc = put_trailer(o);
    if (rc) return rc;
    *step = "fsync";
    return fsync(o->fd) == 0 ? 0 : errno;
}

int vd_state_snapshot_write(vd_store_t *s, vd_campaigns_t *c, const char *path, int64_t now,
                            vd_state_snapshot_info_t *info, char *err, size_t errlen) {
    int64_t t0 = vd_now_ns();
    memset(info, 0, sizeof *info);
    char tmp[PATH_MAX];
    if (snprintf(tmp, sizeof tmp, "%s.tmp", path) >= (int)sizeof tmp)
        return fail(VD_EIO, err, errlen, path, "path", ENAMETOOLONG);
    out_t o = {.fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600)};
    if (o.fd < 0) return fail(VD_EIO, err, errlen, tmp, "cannot create", errno);
    const char *step = "write";
    int rc = (o.hash = XXH3_createState()) ? 0 : ENOMEM;
    if (rc == 0) {
        XXH3_64bits_reset(o.hash);
        rc = write_content(s, c, &o, now, info, &step);
    }
    XXH3_freeState(o.hash);
    free(o.data);
    if (close(o.fd) != 0 && rc == 0) rc = errno, step = "close";
    if (rc == 0 && rename(tmp, path) != 0) rc = errno, step = "rename into place";
    if (rc) {
        unlink(tmp);
        if (rc == ENOMEM) return snprintf(err, errlen, "%s: out of memory", tmp), VD_ENOMEM;
        return fail(VD_EIO, err, errlen, tmp, step, rc);
    }
    if ((rc = sync_dir(path)) != 0)
        return fail(VD_EIO, err, errlen, path, "fsync of its directory", rc);
    info->entries = o.records;
    info->bytes = o.bytes;
    info->written_at = now;
    info->elapsed_ns = vd_now_ns() - t0;
    return 0;
}
