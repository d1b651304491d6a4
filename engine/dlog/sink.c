#include "sink.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

long vd_dlog_cut_torn_tail(int fd) {
    struct stat st;
    if (fstat(fd, &st) != 0) return -1;
    off_t end = st.st_size, pos = end;
    char buf[4096];
    while (pos > 0) {
        size_t n = pos < (off_t)sizeof buf ? (size_t)pos : sizeof buf;
        if (pread(fd, buf, n, pos - (off_t)n) != (ssize_t)n) return -1;
        for (size_t i = n; i > 0; i--)
            if (buf[i - 1] == '\n') {
                off_t keep = pos - (off_t)n + (off_t)i;
                if (keep == end) return 0;
                return ftruncate(fd, keep) == 0 ? (long)(end - keep) : -1;
            }
        pos -= (off_t)n;
    }
    if (end == 0) return 0;
    return ftruncate(fd, 0) == 0 ? (long)end : -1;
}

static int64_t wall_s(void) {
    return (int64_t)time(NULL);
}

static int open_path(vd_dlog_sink_t *s) {
    /* Read access too for a file, to find a torn tail; a FIFO is opened for writing only, so
     * that it fails (ENXIO) while nobody reads it rather than filling up unseen. */
    struct stat st;
    int mode = stat(s->cfg.path, &st) == 0 && S_ISFIFO(st.st_mode) ? O_WRONLY : O_RDWR;
    s->fd = open(s->cfg.path, mode | O_APPEND | O_CREAT | O_CLOEXEC | O_NONBLOCK, 0640);
    if (s->fd < 0) {
        snprintf(s->error, sizeof s->error, "cannot open %s: %s", s->cfg.path,
                 errno == ENXIO ? "it is a FIFO that nobody reads" : strerror(errno));
        return -1;
    }
    s->regular = fstat(s->fd, &st) == 0 && S_ISREG(st.st_mode);
    s->dev = (uint64_t)st.st_dev;
    s->ino = (uint64_t)st.st_ino;
    s->opens++;
    s->size = 0;
    s->opened_s = s->checked_s = wall_s();
    s->synced = s->dropped = 0;
    if (s->regular) {
        long cut = vd_dlog_cut_torn_tail(s->fd);
        if (cut > 0)
            snprintf(s->error, sizeof s->error,
                     "%s ended in a line cut short (%ld bytes, from a write interrupted by a "
                     "kill or power loss): removed",
                     s->cfg.path, cut);
        if (fstat(s->fd, &st) == 0) s->size = s->synced = s->dropped = (uint64_t)st.st_size;
        if (vd_dlog_direct_open(&s->direct, s->cfg.path, s->fd, s->size) != 0)
            snprintf(s->error, sizeof s->error, "%s: no direct writes (%s): through the cache",
                     s->cfg.path, strerror(errno));
    }
    return 0;
}

int vd_dlog_sink_open(vd_dlog_sink_t *s, const vd_dlog_sink_config_t *cfg) {
    memset(s, 0, sizeof *s);
    s->cfg = *cfg;
    s->fd = -1;
    return open_path(s);
}

void vd_dlog_sink_close(vd_dlog_sink_t *s) {
    vd_dlog_direct_close(&s->direct); /* its staged lines first */
    if (s->fd >= 0) close(s->fd);
    s->fd = -1;
}

int vd_dlog_sink_flush(vd_dlog_sink_t *s) {
    if (vd_dlog_direct_flush(&s->direct) == 0) return 0;
    snprintf(s->error, sizeof s->error, "cannot write %s: %s", s->cfg.path, strerror(errno));
    s->torn = 1;
    return -1;
}

void vd_dlog_sink_crash_flush(vd_dlog_sink_t *s) {
    vd_dlog_direct_flush(&s->direct);
}

int vd_dlog_sink_reopen(vd_dlog_sink_t *s) {
    vd_dlog_sink_close(s);
    return open_path(s);
}

int vd_dlog_sink_gone(vd_dlog_sink_t *s) {
    if (s->fd < 0 || !s->regular) return 0;
    int64_t now = wall_s();
    if (now == s->checked_s) return 0;
    s->checked_s = now;
    struct stat st;
    return stat(s->cfg.path, &st) != 0 || (uint64_t)st.st_dev != s->dev ||
           (uint64_t)st.st_ino != s->ino;
}

/* Rotated files are PATH.<stamp>; sorted by name they are sorted by age. */
static int cmp_names(const void *a, const void *b) {
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Whether a name after "PATH." is one rotate gives (YYYYMMDDTHHMMSSZ, then "-NNN" or a
 * suffix a compressor adds, or nothing). Other files that share the prefix (PATH.bak,
 * logrotate's PATH.1) are not ours: counted, they would push our rotated files out, and sorted
 * before them, be deleted. */
static int is_stamp(const char *s) {
    for (int i = 0; i < 16; i++) {
        int want_digit = i != 8 && i != 15;
        if (want_digit ? (s[i] < '0' || s[i] > '9') : s[i] != (i == 8 ? 'T' : 'Z')) return 0;
    }
    return s[16] == '\0' || s[16] == '-' || s[16] == '.';
}

static void delete_oldest(vd_dlog_sink_t *s) {
    if (s->cfg.keep <= 0) return;
    char dir[PATH_MAX];
    snprintf(dir, sizeof dir, "%s", s->cfg.path);
    char *slash = strrchr(dir, '/');
    const char *base = slash ? slash + 1 : dir;
    char prefix[PATH_MAX + 2];
    snprintf(prefix, sizeof prefix, "%s.", base);
    if (slash)
        *slash = '\0';
    else
        snprintf(dir, sizeof dir, ".");
    DIR *d = opendir(dir);
    if (!d) return;
    char **names = NULL;
    size_t n = 0, cap = 0, plen = strlen(prefix);
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (strncmp(e->d_name, prefix, plen) != 0 || !is_stamp(e->d_name + plen)) continue;
        if (n == cap) {
            char **more = realloc(names, (cap = cap ? cap * 2 : 16) * sizeof *names);
            if (!more) break;
            names = more;
        }
        if ((names[n] = strdup(e->d_name)) != NULL) n++;
    }
    closedir(d);
    if (n) qsort(names, n, sizeof *names, cmp_names); /* names is NULL when there are none */
    for (size_t i = 0; i + (size_t)s->cfg.keep < n; i++) {
        char path[PATH_MAX * 2];
        snprintf(path, sizeof path, "%s/%s", dir, names[i]);
        unlink(path);
    }
    for (size_t i = 0; i < n; i++)
        free(names[i]);
    free(names);
}

int vd_dlog_sink_rotate(vd_dlog_sink_t *s) {
    if (!s->regular || s->size == 0) return 0;
    time_t now = time(NULL);
    struct tm tm;
    gmtime_r(&now, &tm);
    char stamp[32], to[PATH_MAX + 48];
    strftime(stamp, sizeof stamp, "%Y%m%dT%H%M%SZ", &tm);
    snprintf(to, sizeof to, "%s.%s", s->cfg.path, stamp);
    for (int i = 1; access(to, F_OK) == 0 && i < 1000; i++)
        snprintf(to, sizeof to, "%s.%s-%03d", s->cfg.path, stamp, i);
    if (rename(s->cfg.path, to) != 0) {
        snprintf(s->error, sizeof s->error, "cannot rotate %s: %s", s->cfg.path, strerror(errno));
        return -1;
    }
    s->rotations++;
    delete_oldest(s);
    return vd_dlog_sink_reopen(s);
}

static int rotation_due(const vd_dlog_sink_t *s, size_t n) {
    if (!s->regular || s->size == 0) return 0;
    if (s->cfg.max_bytes && s->size + n > s->cfg.max_bytes) return 1;
    return s->cfg.max_age_s && wall_s() - s->opened_s >= s->cfg.max_age_s;
}

int vd_dlog_sink_rotate_if_due(vd_dlog_sink_t *s, size_t n) {
    if (s->fd < 0 || s->torn || !rotation_due(s, n)) return 0;
    return vd_dlog_sink_rotate(s) == 0;
}

/* A log is written once and read rarely: what it has written is handed to the disk every
 * DROP_EVERY bytes and, a step later, dropped from the page cache. The cache then does not fill
 * with the log (pushing out what other programs read), and new writes reuse pages freed a
 * moment ago instead of touching new memory (which is what most of a write costs). */
#define DROP_EVERY ((uint64_t)2 << 20)

static void drop_written(vd_dlog_sink_t *s) {
    if (!s->regular || s->size < s->synced + DROP_EVERY) return;
    if (s->synced > s->dropped) /* the step before: its writeback was started then */
        posix_fadvise(s->fd, (off_t)s->dropped, (off_t)(s->synced - s->dropped),
                      POSIX_FADV_DONTNEED);
    s->dropped = s->synced;
    sync_file_range(s->fd, (off_t)s->synced, (off_t)(s->size - s->synced), SYNC_FILE_RANGE_WRITE);
    s->synced = s->size;
}

size_t vd_dlog_sink_write(vd_dlog_sink_t *s, const char *data, size_t n, int begins_line,
                          int wait_ms) {
    if (s->fd < 0 && (!begins_line || open_path(s) != 0)) return 0;
    if (begins_line && s->torn) { /* finish what a failed write left before a new line */
        if (s->regular) {
            long cut = vd_dlog_cut_torn_tail(s->fd);
            if (cut < 0) return 0;
            s->size -= (uint64_t)cut; /* rotation counts what the file holds */
        } else if (write(s->fd, "\n", 1) != 1) {
            return 0;
        }
        s->torn = 0;
    }
    if (s->fd < 0) return 0;
    size_t done = 0;
    int waited = 0;
    if (s->direct.buf) {
        done = vd_dlog_direct_append(&s->direct, data, n);
        s->size += done;
        if (done < n)
            snprintf(s->error, sizeof s->error,
                     "a direct write to %s failed (%s): writing through the cache from now on",
                     s->cfg.path, strerror(errno));
    }
    while (done < n) {
        ssize_t w = write(s->fd, data + done, n - done);
        if (w > 0) {
            done += (size_t)w;
            s->size += (uint64_t)w;
            drop_written(s);
            continue;
        }
        if (w < 0 && errno == EINTR) continue;
        if (w < 0 && errno == EAGAIN && waited < wait_ms) {
            struct pollfd p = {.fd = s->fd, .events = POLLOUT};
            poll(&p, 1, 10);
            waited += 10;
            continue;
        }
        if (w < 0 && errno != EAGAIN) {
            int e = errno;
            snprintf(s->error, sizeof s->error, "cannot write %s: %s", s->cfg.path, strerror(e));
            s->torn = 1;
            if (e == EPIPE) vd_dlog_sink_close(s); /* the reader went away: open again */
        }
        break;
    }
    return done;
}
