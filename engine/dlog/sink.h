/* Where decision-log lines go: a file (rotated by size and age, reopened on request as
 * logrotate expects, its torn tail cut when opened) or anything else a path names (a FIFO, a
 * character device), written as is. Writes never block for long: the descriptor is
 * non-blocking and a write waits at most a bounded time for room. Used by the writer thread
 * only. */
#ifndef VD_DLOG_SINK_H
#define VD_DLOG_SINK_H

#include "direct.h"

#include <stddef.h>
#include <stdint.h>
#include <time.h>

typedef struct vd_dlog_sink_config {
    const char *path;
    uint64_t max_bytes; /* a file past this is rotated; 0: never by size */
    int64_t max_age_s;  /* a file older than this is rotated; 0: never by age */
    int keep;           /* rotated files kept (the oldest are deleted); 0: all */
} vd_dlog_sink_config_t;

typedef struct vd_dlog_sink {
    vd_dlog_sink_config_t cfg;
    int fd;                   /* -1: not open (the last open failed) */
    vd_dlog_direct_t direct;  /* a regular file: its O_DIRECT writes (direct.fd -1: none) */
    int regular;              /* a regular file: rotation and tail repair apply */
    uint64_t size;            /* bytes in the current file */
    uint64_t synced, dropped; /* handed to the disk, and dropped from the page cache, up to */
    int64_t opened_s;         /* wall time verdictd opened the current file */
    int64_t checked_s;        /* when the path was last found to name the open file */
    uint64_t dev, ino;        /* the open file's */
    int torn;                 /* a failed write may have left a line cut short at the end */
    uint64_t rotations;
    uint64_t opens;  /* files opened: a new one needs its manifest line first */
    char error[256]; /* the last failure, for the log */
} vd_dlog_sink_t;

/* Opens cfg->path (created 0640 when missing). Returns 0, or -1 with sink->error set (the sink
 * then tries again at each write). */
int vd_dlog_sink_open(vd_dlog_sink_t *s, const vd_dlog_sink_config_t *cfg);

/* Writes data[0..n), whole lines: returns the bytes written, n or fewer when the sink stayed
 * full for wait_ms or failed. The caller keeps the rest (and must finish a line begun before
 * writing another: begins_line says whether data begins one), and rotates when it wants
 * (vd_dlog_sink_rotate_if_due: a file is rotated once it has passed its size). */
size_t vd_dlog_sink_write(vd_dlog_sink_t *s, const char *data, size_t n, int begins_line,
                          int wait_ms);

/* Puts what the sink has staged for direct writes into the file (direct.h): the writer calls it
 * when it runs out of lines. Returns 0, or -1 with error set. */
int vd_dlog_sink_flush(vd_dlog_sink_t *s);

/* The same from the crash handler, once the writer has stopped: async-signal-safe. */
void vd_dlog_sink_crash_flush(vd_dlog_sink_t *s);

/* Closes and opens the path again (after logrotate moved the file). Returns 0 or -1. */
int vd_dlog_sink_reopen(vd_dlog_sink_t *s);

/* Whether the path no longer names the open file (it was deleted, its directory removed, or
 * another file put in its place): what is written would then go nowhere anyone can read, so
 * the caller opens the path again. Looked at once a second at most; regular files only. */
int vd_dlog_sink_gone(vd_dlog_sink_t *s);

/* Rotates now when writing n more bytes is due to (size or age; begin a line). Returns 1 when
 * it rotated, else 0. */
int vd_dlog_sink_rotate_if_due(vd_dlog_sink_t *s, size_t n);

/* Renames a non-empty regular file to PATH.YYYYMMDDTHHMMSSZ (with a counter when taken),
 * deletes the oldest past keep, and opens a new one. Returns 0 or -1. */
int vd_dlog_sink_rotate(vd_dlog_sink_t *s);

void vd_dlog_sink_close(vd_dlog_sink_t *s);

/* Cuts a regular file after its last newline: what a write cut short by SIGKILL or a power
 * loss left. Returns the bytes cut (0: the file was whole), or -1 on error. */
long vd_dlog_cut_torn_tail(int fd);

#endif
