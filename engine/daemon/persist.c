#include "persist.h"

#include "base/clock.h"
#include "base/error.h"
#include "base/log.h"
#include "state/snapshot_read.h"
#include "state/snapshot_write.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

/* A path whose directory is missing or read-only is a mistake of the deployment: found at
 * start, not at the first snapshot a minute (or a whole run) later. Also clears a temporary
 * file a killed write left behind. */
static int check_writable(const char *path, char *err, size_t errlen) {
    char tmp[PATH_MAX];
    if (snprintf(tmp, sizeof tmp, "%s.tmp", path) >= (int)sizeof tmp)
        return snprintf(err, errlen, "--state-snapshot %s: path too long", path), VD_EINVAL;
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0)
        return snprintf(err, errlen, "--state-snapshot %s: cannot write %s: %s", path, tmp,
                        strerror(errno)),
               VD_EIO;
    close(fd);
    unlink(tmp);
    return 0;
}

/* A file that is not a snapshot this build reads goes to path.bad, for whoever looks into it,
 * and the next snapshot takes its place. */
static void set_aside(vd_persist_t *p, const char *why) {
    char bad[PATH_MAX];
    snprintf(bad, sizeof bad, "%s.bad", p->path);
    snprintf(p->stats.load_error, sizeof p->stats.load_error, "%s", why);
    p->stats.load_failures = 1;
    if (rename(p->path, bad) == 0)
        vd_log(VD_LOG_ERROR, "state snapshot refused, starting with empty state: %s (moved to %s)",
               why, bad);
    else
        vd_log(VD_LOG_ERROR,
               "state snapshot refused, starting with empty state: %s (cannot move it to %s: "
               "%s; the next snapshot replaces it)",
               why, bad, strerror(errno));
}

static void log_loaded(vd_persist_t *p, const vd_state_snapshot_info_t *info, int64_t now) {
    vd_log(VD_LOG_INFO,
           "state snapshot %s loaded: %llu entries, %llu expired while the daemon was down "
           "(written %lld s ago), in %.1f ms",
           p->path, (unsigned long long)info->entries, (unsigned long long)info->expired,
           (long long)(now - info->written_at), (double)info->elapsed_ns / 1e6);
    if (info->written_at > now + 60)
        vd_log(VD_LOG_WARN,
               "state snapshot %s was written %lld s in the future: has the clock moved back? "
               "Counter windows stay empty until it catches up",
               p->path, (long long)(info->written_at - now));
}

static int load(vd_persist_t *p, char *err, size_t errlen) {
    vd_state_snapshot_info_t info;
    char why[512];
    int64_t now = vd_clock_now_s(NULL);
    int rc = vd_state_snapshot_read(p->store, p->campaigns, p->path, now, &info, why, sizeof why);
    if (rc == 0) {
        p->stats.loaded = info.entries;
        p->stats.load_expired = info.expired;
        p->stats.loaded_written_at = info.written_at;
        log_loaded(p, &info, now);
    } else if (rc == VD_ENOTFOUND) {
        vd_log(VD_LOG_INFO, "state snapshot %s: none yet, starting with empty state", p->path);
    } else if (rc == VD_EPROTO) {
        set_aside(p, why);
    } else {
        snprintf(err, errlen, "--state-snapshot: %s", why);
        return rc;
    }
    return 0;
}

int vd_persist_init(vd_persist_t *p, vd_store_t *store, vd_campaigns_t *campaigns, const char *path,
                    int interval_s, char *err, size_t errlen) {
    memset(p, 0, sizeof *p);
    pthread_mutex_init(&p->lock, NULL);
    p->ready = 1;
    if (!path) return 0;
    p->store = store;
    p->campaigns = campaigns;
    p->path = path;
    p->interval_s = interval_s;
    p->stats.path = path;
    p->stats.interval_s = interval_s;
    int rc = check_writable(path, err, errlen);
    return rc ? rc : load(p, err, errlen);
}

/* Counts a write and logs what an operator needs: each new reason for failing once, and the
 * recovery. */
static void record(vd_persist_t *p, int rc, const vd_state_snapshot_info_t *info, const char *why,
                   vd_log_level_t ok_level) {
    pthread_mutex_lock(&p->lock);
    if (rc == 0) {
        p->stats.writes++;
        p->stats.last = *info;
        p->stats.last_error[0] = '\0';
    } else {
        p->stats.failures++;
        snprintf(p->stats.last_error, sizeof p->stats.last_error, "%s", why);
    }
    pthread_mutex_unlock(&p->lock);
    if (rc) {
        int again = p->failing++ && strcmp(p->logged, why) == 0;
        vd_log(again ? VD_LOG_DEBUG : VD_LOG_ERROR, "state snapshot failed (%d in a row): %s",
               p->failing, why);
        snprintf(p->logged, sizeof p->logged, "%s", why);
        return;
    }
    if (p->failing)
        vd_log(VD_LOG_INFO, "state snapshot written again after %d failure(s)", p->failing);
    p->failing = 0;
    vd_log(ok_level,
           "state snapshot %s: %llu entries, %llu bytes in %.1f ms (longest shard lock %.0f us)",
           p->path, (unsigned long long)info->entries, (unsigned long long)info->bytes,
           (double)info->elapsed_ns / 1e6, (double)info->longest_lock_ns / 1e3);
}

static void write_in_pool(uv_work_t *w) {
    vd_persist_t *p = w->data;
    p->rc = vd_state_snapshot_write(p->store, p->campaigns, p->path, vd_clock_now_s(NULL), &p->info,
                                    p->err, sizeof p->err);
}

static void write_done(uv_work_t *w, int status) {
    vd_persist_t *p = w->data;
    (void)status; /* never cancelled */
    p->busy = 0;
    record(p, p->rc, &p->info, p->err, VD_LOG_DEBUG);
}

static void on_tick(uv_timer_t *t) {
    vd_persist_t *p = t->data;
    if (p->busy) {
        vd_log(p->skipped++ ? VD_LOG_DEBUG : VD_LOG_WARN,
               "state snapshot: the previous one is still being written; skipped (a longer "
               "--state-snapshot-interval avoids this)");
        return;
    }
    p->skipped = 0;
    p->busy = 1;
    p->work.data = p;
    uv_queue_work(t->loop, &p->work, write_in_pool, write_done);
}

void vd_persist_start(vd_persist_t *p, uv_loop_t *loop) {
    if (!p->path || p->interval_s <= 0) return;
    uint64_t ms = (uint64_t)p->interval_s * 1000;
    uv_timer_init(loop, &p->timer);
    p->timer.data = p;
    uv_timer_start(&p->timer, on_tick, ms, ms);
    p->timer_on = 1;
}

void vd_persist_stop(vd_persist_t *p) {
    if (!p->timer_on) return;
    uv_close((uv_handle_t *)&p->timer, NULL);
    p->timer_on = 0;
}

void vd_persist_final(vd_persist_t *p) {
    if (!p->path) return;
    vd_state_snapshot_info_t info;
    char why[256];
    int rc = vd_state_snapshot_write(p->store, p->campaigns, p->path, vd_clock_now_s(NULL), &info,
                                     why, sizeof why);
    record(p, rc, &info, why, VD_LOG_INFO);
}

void vd_persist_stats(vd_persist_t *p, vd_state_snapshot_stats_t *out) {
    pthread_mutex_lock(&p->lock);
    *out = p->stats;
    pthread_mutex_unlock(&p->lock);
}

void vd_persist_close(vd_persist_t *p) {
    if (p->ready) pthread_mutex_destroy(&p->lock);
    p->ready = 0;
}
