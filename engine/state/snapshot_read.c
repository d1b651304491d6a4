#include "snapshot_read.h"

#include "base/clock.h"
#include "base/error.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#include <xxhash.h>

/* Where the parser is: records are checked in one pass and restored in a second. */
typedef struct cursor {
    const uint8_t *data;
    size_t len, at;
    uint64_t record;
    char *err;
    size_t errlen;
} cursor_t;

static int problem(cursor_t *c, int rc, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* Fills the error with the record and byte it is about. rc: VD_EAGAIN when the bytes ran out
 * (a truncated file), VD_EPROTO for content that cannot be. */
static int problem(cursor_t *c, int rc, const char *fmt, ...) {
    int n = snprintf(c->err, c->errlen,
                     "record %llu at byte %zu: ", (unsigned long long)c->record + 1, c->at);
    va_list ap;
    va_start(ap, fmt);
    if (n >= 0 && (size_t)n < c->errlen) vsnprintf(c->err + n, c->errlen - (size_t)n, fmt, ap);
    va_end(ap);
    return rc;
}

/* The next n bytes, or NULL when the file ends first. */
static const uint8_t *take(cursor_t *c, size_t n) {
    if (c->len - c->at < n) return NULL;
    const uint8_t *p = c->data + c->at;
    c->at += n;
    return p;
}

static int read_windows(cursor_t *c, vd_store_window_t *w) {
    const uint8_t *p = take(c, VD_SNAPSHOT_COUNTER_BYTES);
    if (!p) return problem(c, VD_EAGAIN, "the counter's windows end past the end of the file");
    for (int i = 0; i < VD_WINDOWS; i++) {
        w[i].head = (uint32_t)vd_le_get(p, 4);
        p += 4;
        for (int b = 0; b < VD_STORE_BUCKETS; b++, p += 4)
            w[i].count[b] = (uint32_t)vd_le_get(p, 4);
    }
    return 0;
}

/* (index, value) pairs, indices ascending, values not 0. */
static int read_sparse(cursor_t *c, size_t n, uint8_t *regs) {
    const uint8_t *p = take(c, 3 * n);
    if (!p) return problem(c, VD_EAGAIN, "the distinct count ends past the end of the file");
    long last = -1;
    for (size_t i = 0; i < n; i++, p += 3) {
        long idx = (long)vd_le_get(p, 2);
        if (idx <= last || idx >= VD_STORE_HLL_REGS || p[2] == 0 || p[2] > VD_STORE_HLL_RANK)
            return problem(c, VD_EPROTO, "distinct count register %ld = %u out of order or range",
                           idx, p[2]);
        regs[idx] = p[2];
        last = idx;
    }
    return 0;
}

static int read_registers(cursor_t *c, uint8_t *regs) {
    const uint8_t *p = take(c, 2);
    if (!p) return problem(c, VD_EAGAIN, "the distinct count ends past the end of the file");
    size_t n = vd_le_get(p, 2), nonzero = 0;
    memset(regs, 0, VD_STORE_HLL_REGS);
    if (n > VD_STORE_HLL_REGS)
        return problem(c, VD_EPROTO, "a distinct count with %zu registers set of %d", n,
                       VD_STORE_HLL_REGS);
    if (vd_snapshot_sparse(n)) return read_sparse(c, n, regs);
    if (!(p = take(c, VD_STORE_HLL_REGS)))
        return problem(c, VD_EAGAIN, "the distinct count ends past the end of the file");
    for (int i = 0; i < VD_STORE_HLL_REGS; i++) {
        if (p[i] > VD_STORE_HLL_RANK)
            return problem(c, VD_EPROTO, "distinct count register %d = %u out of range", i, p[i]);
        nonzero += p[i] != 0;
    }
    if (nonzero != n)
        return problem(c, VD_EPROTO, "a distinct count says %zu registers set, has %zu", n,
                       nonzero);
    memcpy(regs, p, VD_STORE_HLL_REGS);
    return 0;
}

/* A record's payload: its length, then its bytes (pointing into the file). */
static int read_payload(cursor_t *c, vd_store_item_t *it) {
    const uint8_t *p = take(c, 4);
    if (!p) return problem(c, VD_EAGAIN, "the record ends past the end of the file");
    it->payload_len = (uint32_t)vd_le_get(p, 4);
    if (it->payload_len > VD_STORE_MAX_RECORD)
        return problem(c, VD_EPROTO, "a record of %u bytes (at most %d)", it->payload_len,
                       VD_STORE_MAX_RECORD);
    if (!(it->payload = take(c, it->payload_len)))
        return problem(c, VD_EAGAIN, "the record ends past the end of the file");
    return 0;
}

/* A saved campaign: its length, then its bytes (pointing into the file), checked. */
static int read_campaign(cursor_t *c, vd_store_item_t *it) {
    const uint8_t *p = take(c, 4);
    if (!p) return problem(c, VD_EAGAIN, "the campaign ends past the end of the file");
    it->payload_len = (uint32_t)vd_le_get(p, 4);
    if (it->keylen != 0 || it->payload_len > VD_CAMPAIGN_SAVED_MAX)
        return problem(c, VD_EPROTO,
                       "a campaign of %u bytes with a key of %zu (at most %d, no "
                       "key)",
                       it->payload_len, it->keylen, VD_CAMPAIGN_SAVED_MAX);
    if (!(it->payload = take(c, it->payload_len)))
        return problem(c, VD_EAGAIN, "the campaign ends past the end of the file");
    int rc = vd_campaigns_check_saved(it->payload, it->payload_len);
    if (rc == VD_ENOTFOUND) it->payload = NULL; /* another build's layout: left out */
    if (rc == VD_EPROTO) return problem(c, VD_EPROTO, "a campaign out of range, or corrupt");
    return 0;
}

/* The next record into it (its key and registers point into the file and regs; *campaign
 * says whether it is a campaign, its bytes the payload). Returns 0, 1 at the end mark, or
 * VD_EAGAIN / VD_EPROTO. */
static int next_record(cursor_t *c, vd_store_item_t *it, uint8_t *regs, int *campaign) {
    size_t start = c->at;
    const uint8_t *p = take(c, 1);
    if (!p) return problem(c, VD_EAGAIN, "the file ends before its trailer");
    if (*p == VD_SNAPSHOT_END) return 1;
    if (*p > VD_SNAPSHOT_CAMPAIGN) {
        c->at = start;
        return problem(c, VD_EPROTO, "unknown kind %u", *p);
    }
    *campaign = *p == VD_SNAPSHOT_CAMPAIGN;
    it->kind = *p == VD_SNAPSHOT_COUNTER    ? VD_STORE_COUNTER
               : *p == VD_SNAPSHOT_DISTINCT ? VD_STORE_DISTINCT
               : *p == VD_SNAPSHOT_LABEL    ? VD_STORE_LABEL
                                            : VD_STORE_RECORD;
    if (!(p = take(c, VD_SNAPSHOT_RECORD_HEAD - 1)))
        return problem(c, VD_EAGAIN, "the record ends past the end of the file");
    it->keylen = vd_le_get(p, 4);
    it->expires = (int64_t)vd_le_get(p + 4, 8);
    if (it->keylen > VD_SNAPSHOT_MAX_KEY)
        return problem(c, VD_EPROTO, "a key of %zu bytes (at most %d)", it->keylen,
                       VD_SNAPSHOT_MAX_KEY);
    if (!(p = take(c, it->keylen)))
        return problem(c, VD_EAGAIN, "the key ends past the end of the file");
    it->key = (const char *)p;
    it->regs = it->kind == VD_STORE_DISTINCT ? regs : NULL;
    int rc = 0;
    if (*campaign)
        rc = read_campaign(c, it);
    else if (it->kind == VD_STORE_COUNTER)
        rc = read_windows(c, it->windows);
    else if (it->kind == VD_STORE_DISTINCT)
        rc = read_registers(c, regs);
    else if (it->kind == VD_STORE_RECORD)
        rc = read_payload(c, it);
    c->record += rc == 0;
    return rc;
}

/* Reads every record; with s, restores those alive at now (campaigns into cs, when given),
 * else only checks them. Then the trailer: its count, and nothing after it. */
static int records(cursor_t *c, vd_store_t *s, vd_campaigns_t *cs, int64_t now,
                   vd_state_snapshot_info_t *info) {
    uint8_t regs[VD_STORE_HLL_REGS];
    vd_store_item_t it = {0};
    int rc, campaign = 0;
    c->at = VD_SNAPSHOT_HEADER;
    c->record = 0;
    while ((rc = next_record(c, &it, regs, &campaign)) == 0) {
        if (!s || (campaign && !cs)) continue;
        if (campaign && !it.payload) { /* written by a build with another campaign layout */
            info->skipped++;
            continue;
        }
        if (it.expires && it.expires <= now) {
            info->expired++;
            continue;
        }
        rc = campaign ? vd_campaigns_restore(cs, it.payload, it.payload_len, now)
                      : vd_store_restore(s, &it);
        if (rc == VD_ENOTFOUND) continue; /* a campaign already there */
        if (rc != 0) return rc;
        info->entries++;
    }
    if (rc < 0) return rc;
    const uint8_t *p = take(c, 8);
    if (!p || c->len - c->at < 8)
        return problem(c, VD_EAGAIN, "the trailer ends past the end of the file");
    if (c->len - c->at > 8)
        return problem(c, VD_EPROTO, "%zu bytes after the trailer", c->len - c->at - 8);
    if (vd_le_get(p, 8) != c->record)
        return problem(c, VD_EPROTO, "the trailer counts %llu records, the file holds %llu",
                       (unsigned long long)vd_le_get(p, 8), (unsigned long long)c->record);
    return 0;
}

/* Magic and version, readable even in a file too short to be whole. */
static int check_identity(const uint8_t *data, size_t len, char *err, size_t errlen) {
    if (len >= 8 && memcmp(data, VD_SNAPSHOT_MAGIC, 8) != 0)
        return snprintf(err, errlen, "not a Verdict state snapshot (it does not start with %s)",
                        VD_SNAPSHOT_MAGIC),
               VD_EPROTO;
    uint64_t version = len >= 12 ? vd_le_get(data + VD_SNAPSHOT_VERSION_AT, 4) : 0;
    if (len >= 12 && (version < 1 || version > VD_SNAPSHOT_VERSION)) /* 2: records, 3: campaigns */
        return snprintf(err, errlen, "format version %llu; this verdictd reads version %d",
                        (unsigned long long)version, VD_SNAPSHOT_VERSION),
               VD_EPROTO;
    if (len < VD_SNAPSHOT_HEADER + VD_SNAPSHOT_TRAILER)
        return snprintf(err, errlen, "truncated: %zu bytes, shorter than an empty snapshot (%d)",
                        len, VD_SNAPSHOT_HEADER + VD_SNAPSHOT_TRAILER),
               VD_EPROTO;
    return 0;
}

/* A checksum that does not match: a file that ends inside a record was cut short (a copy that
 * stopped, a full disk before snapshots were renamed into place); anything else is corrupt. */
static int checksum_problem(cursor_t *c, uint64_t stored, uint64_t actual) {
    char why[200];
    cursor_t scan = *c;
    scan.err = why;
    scan.errlen = sizeof why;
    if (records(&scan, NULL, NULL, 0, NULL) == VD_EAGAIN)
        return snprintf(c->err, c->errlen, "truncated (%zu bytes): %s", c->len, why), VD_EPROTO;
    return snprintf(c->err, c->errlen,
                    "corrupt: checksum %016llx does not match its content (%016llx)",
                    (unsigned long long)stored, (unsigned long long)actual),
           VD_EPROTO;
}

/* The store this build keeps must be the one the file was written from. */
static int check_layout(const uint8_t *h, char *err, size_t errlen) {
    int same = h[12] == VD_WINDOWS && h[13] == VD_STORE_BUCKETS &&
               vd_le_get(h + 14, 2) == VD_STORE_HLL_REGS;
    for (int w = 0; same && w < VD_WINDOWS; w++)
        same = vd_le_get(h + VD_SNAPSHOT_WINDOWS_AT + 8 * (size_t)w, 8) ==
               (uint64_t)vd_window_seconds[w];
    if (same) return 0;
    snprintf(err, errlen,
             "written by a build whose counters keep %u windows of %u buckets and distinct "
             "counts %u registers; this one keeps %d of %d, and %d",
             h[12], h[13], (unsigned)vd_le_get(h + 14, 2), VD_WINDOWS, VD_STORE_BUCKETS,
             VD_STORE_HLL_REGS);
    return VD_EPROTO;
}

int vd_state_snapshot_load(vd_store_t *s, vd_campaigns_t *cs, const uint8_t *data, size_t len,
                           int64_t now, vd_state_snapshot_info_t *info, char *err, size_t errlen) {
    int64_t t0 = vd_now_ns();
    memset(info, 0, sizeof *info);
    info->bytes = len;
    int rc = check_identity(data, len, err, errlen);
    if (rc) return rc;
    cursor_t c = {.data = data, .len = len, .err = err, .errlen = errlen};
    uint64_t stored = vd_le_get(data + len - 8, 8), actual = XXH3_64bits(data, len - 8);
    if (stored != actual) return checksum_problem(&c, stored, actual);
    if ((rc = check_layout(data, err, errlen)) != 0) return rc;
    info->written_at = (int64_t)vd_le_get(data + VD_SNAPSHOT_WRITTEN_AT, 8);
    if ((rc = records(&c, NULL, NULL, 0, info)) != 0) return rc == VD_EAGAIN ? VD_EPROTO : rc;
    rc = records(&c, s, cs, now, info);
    if (rc == VD_ENOMEM) snprintf(err, errlen, "out of memory");
    info->elapsed_ns = vd_now_ns() - t0;
    return rc;
}

/* err becomes "path: err". */
static int with_path(int rc, const char *path, char *err, size_t errlen) {
    char why[512];
    snprintf(why, sizeof why, "%s", err);
    snprintf(err, errlen, "%s: %s", path, why);
    return rc;
}

int vd_state_snapshot_read(vd_store_t *s, vd_campaigns_t *cs, const char *path, int64_t now,
                           vd_state_snapshot_info_t *info, char *err, size_t errlen) {
    memset(info, 0, sizeof *info);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        int rc = errno == ENOENT ? VD_ENOTFOUND : VD_EIO;
        snprintf(err, errlen, "%s: %s", path, strerror(errno));
        return rc;
    }
    struct stat st;
    const char *why = fstat(fd, &st) != 0    ? strerror(errno)
                      : !S_ISREG(st.st_mode) ? "not a regular file"
                                             : NULL;
    if (why) {
        snprintf(err, errlen, "%s: %s", path, why);
        close(fd);
        return VD_EIO;
    }
    size_t len = (size_t)st.st_size;
    void *map = len ? mmap(NULL, len, PROT_READ, MAP_PRIVATE, fd, 0) : NULL;
    close(fd);
    if (map == MAP_FAILED) return snprintf(err, errlen, "%s: %s", path, strerror(errno)), VD_EIO;
    if (map) madvise(map, len, MADV_SEQUENTIAL);
    static const uint8_t none[1];
    int rc = vd_state_snapshot_load(s, cs, map ? map : none, len, now, info, err, errlen);
    if (map) munmap(map, len);
    return rc ? with_path(rc, path, err, errlen) : 0;
}
