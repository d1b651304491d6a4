/* Appending to a regular file with O_DIRECT: the decision log's lines go from an aligned
 * staging buffer to the disk without passing through the page cache. Through the cache, a
 * signup record cost the writer about 1 µs in the kernel (pages allocated, filled, accounted,
 * written back, dropped); direct, about half, and the cache is left to the programs that read.
 *
 * Direct writes must start and end on block boundaries, so the last partial block stays
 * staged until more lines complete it. vd_dlog_direct_flush puts every staged byte in the file
 * (the partial block through the page cache, with the ordinary descriptor): the writer calls
 * it whenever it runs out of lines, before a rotation, a reopen or exit, and from the crash
 * handler, so a line is in the file at most a moment after the last one of a burst. The block
 * written that way is written again, whole and direct, once more lines complete it.
 *
 * A file system that refuses O_DIRECT (tmpfs) keeps ordinary writes. One thread at a time. */
#ifndef VD_DLOG_DIRECT_H
#define VD_DLOG_DIRECT_H

#include <stddef.h>
#include <stdint.h>

#define VD_DIRECT_ALIGN 4096u
#define VD_DIRECT_CHUNK ((size_t)1 << 20) /* staged bytes written at once */

typedef struct vd_dlog_direct {
    int fd; /* O_DIRECT descriptor of the file, or -1 */
    /* buf is NULL when the file takes ordinary writes (refused, fallen back, never opened:
     * a zeroed struct is in that state) */
    int file_fd;    /* the ordinary descriptor (borrowed): partial blocks and reads */
    char *buf;      /* VD_DIRECT_CHUNK + VD_DIRECT_ALIGN bytes, aligned */
    size_t len;     /* staged: buf[0..len) is the file from offset base on */
    size_t flushed; /* of those, already in the file (a flush wrote them through the cache) */
    uint64_t base;  /* a multiple of VD_DIRECT_ALIGN */
} vd_dlog_direct_t;

/* Starts direct writes at the end (size bytes) of the file path, open as file_fd: opens path
 * again with O_DIRECT and stages its last partial block. Returns 0 (d->fd is -1 when the file
 * system refuses O_DIRECT: use file_fd), or -1 with errno set (no memory, a failed read). */
int vd_dlog_direct_open(vd_dlog_direct_t *d, const char *path, int file_fd, uint64_t size);

/* Appends data[0..n): staged, and the whole blocks written once VD_DIRECT_CHUNK are staged.
 * Returns how many bytes of data it took: n, or fewer after a failed direct write: what was
 * staged then went through the page cache, d->fd is -1 from then on, and the caller writes
 * the rest of data the ordinary way (where a disk that fails shows again). */
size_t vd_dlog_direct_append(vd_dlog_direct_t *d, const char *data, size_t n);

/* Puts every staged byte in the file (after a failed direct write, through the cache, and
 * d->fd is -1 from then on). Returns 0 or -1 with errno set. Async-signal-safe apart from the
 * free() of a fall back (the crash handler calls it once the writer has stopped). */
int vd_dlog_direct_flush(vd_dlog_direct_t *d);

/* Flushes (best effort), closes the O_DIRECT descriptor and frees the buffer. */
void vd_dlog_direct_close(vd_dlog_direct_t *d);

#endif
