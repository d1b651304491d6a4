/* Lines of one decision log for `verdict log`: a file, plain or gzip-compressed (zlib tells
 * them apart by their first bytes, so a rotated file compressed by logrotate needs no
 * renaming), or standard input for "-". */
#ifndef VD_CLI_LOG_INPUT_H
#define VD_CLI_LOG_INPUT_H

#include <stddef.h>
#include <stdint.h>
#include <zlib.h>

enum {
    VD_LOG_FAILED = -1, /* a read failed: in->error says why */
    VD_LOG_END = 0,     /* no more lines */
    VD_LOG_LINE = 1,    /* a line, without its newline */
    VD_LOG_TORN = 2,    /* the last line had no newline: cut short (a file being written) */
};

typedef struct vd_log_input {
    const char *name; /* as given: "-" is standard input */
    gzFile gz;
    char *buf; /* buf[pos..len) is read and not yet returned */
    size_t cap, pos, len;
    uint64_t line; /* the number of the line last returned, from 1 */
    int eof;
    int cut_short; /* a gzip stream ended before its end */
    char error[256];
} vd_log_input_t;

/* Opens path ("-": standard input, left open). Returns 0, or -1 with in->error set (the
 * input must still be closed). */
int vd_log_input_open(vd_log_input_t *in, const char *path);

/* The next line: returns VD_LOG_LINE or VD_LOG_TORN with *line and *len set (valid until the
 * next call), VD_LOG_END or VD_LOG_FAILED. */
int vd_log_input_next(vd_log_input_t *in, const char **line, size_t *len);

/* Closes the file (standard input stays open) and frees the buffer. */
void vd_log_input_close(vd_log_input_t *in);

#endif
