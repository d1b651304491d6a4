/* Log lines written from a signal handler: no stdio, no malloc, no locks, only write(2).
 * Lines look like vd_log's ("2024-05-01T12:00:00.000Z error  ...") so that whatever reads
 * the log reads a crash report too. */
#ifndef VD_CRASH_LINE_H
#define VD_CRASH_LINE_H

#include <stddef.h>
#include <stdint.h>

typedef struct vd_crash_line {
    char buf[1024];
    size_t len; /* what does not fit is cut */
} vd_crash_line_t;

/* Starts a line with the timestamp and the level, as vd_log does. */
void vd_crash_line_start(vd_crash_line_t *l);

void vd_crash_line_str(vd_crash_line_t *l, const char *s); /* NULL prints "?" */
void vd_crash_line_dec(vd_crash_line_t *l, uint64_t v);
void vd_crash_line_hex(vd_crash_line_t *l, uint64_t v); /* 0x... */

/* Writes the line and a newline to stderr. */
void vd_crash_line_end(vd_crash_line_t *l);

#endif
