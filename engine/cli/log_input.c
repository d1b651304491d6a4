#include "log_input.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Reads go straight into this buffer in large pieces (zlib copies plain input directly when
 * asked for at least its own buffer's size); a line longer than this grows it. */
#define READ_SIZE (4u << 20)
#define MAX_LINE  (1u << 30)

int vd_log_input_open(vd_log_input_t *in, const char *path) {
    *in = (vd_log_input_t){.name = path};
    int stdin_ = strcmp(path, "-") == 0;
    int fd = stdin_ ? dup(STDIN_FILENO) : open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        snprintf(in->error, sizeof in->error, "cannot open %s: %s", path, strerror(errno));
        return -1;
    }
    in->gz = gzdopen(fd, "rb");
    in->buf = malloc(READ_SIZE);
    if (!in->gz || !in->buf) {
        if (!in->gz) close(fd);
        snprintf(in->error, sizeof in->error, "cannot read %s: out of memory", path);
        return -1;
    }
    in->cap = READ_SIZE;
    gzbuffer(in->gz, 256u << 10);
    return 0;
}

/* Reads more after what is kept (the start of a line), moved to the front first. */
static int fill(vd_log_input_t *in) {
    if (in->pos > 0) {
        memmove(in->buf, in->buf + in->pos, in->len - in->pos);
        in->len -= in->pos;
        in->pos = 0;
    }
    if (in->cap - in->len < READ_SIZE / 2) {
        if (in->cap >= MAX_LINE) {
            snprintf(in->error, sizeof in->error, "%s: line %llu is longer than 1 GiB", in->name,
                     (unsigned long long)in->line + 1);
            return -1;
        }
        char *more = realloc(in->buf, in->cap * 2);
        if (!more) {
            snprintf(in->error, sizeof in->error, "%s: out of memory", in->name);
            return -1;
        }
        in->buf = more;
        in->cap *= 2;
    }
    size_t want = in->cap - in->len;
    errno = 0;
    int n = gzread(in->gz, in->buf + in->len, want > INT_MAX ? INT_MAX : (unsigned)want);
    int read_errno = errno, zerr;
    const char *msg = gzerror(in->gz, &zerr);
    if (n < 0) {
        snprintf(in->error, sizeof in->error, "cannot read %s: %s", in->name,
                 zerr == Z_ERRNO ? strerror(read_errno) : msg);
        return -1;
    }
    if (n == 0) {
        in->eof = 1;
        in->cut_short = zerr == Z_BUF_ERROR;
    }
    in->len += (size_t)n;
    return 0;
}

int vd_log_input_next(vd_log_input_t *in, const char **line, size_t *len) {
    size_t scanned = in->pos; /* no newline before this */
    for (;;) {
        char *nl = memchr(in->buf + scanned, '\n', in->len - scanned);
        if (nl) {
            *line = in->buf + in->pos;
            *len = (size_t)(nl - *line);
            in->pos = (size_t)(nl - in->buf) + 1;
            in->line++;
            return VD_LOG_LINE;
        }
        if (in->eof) {
            if (in->pos == in->len) return VD_LOG_END;
            *line = in->buf + in->pos;
            *len = in->len - in->pos;
            in->pos = in->len;
            in->line++;
            return VD_LOG_TORN;
        }
        scanned = in->len - in->pos;
        if (fill(in)) return VD_LOG_FAILED;
    }
}

void vd_log_input_close(vd_log_input_t *in) {
    if (in->gz) gzclose(in->gz);
    free(in->buf);
    in->gz = NULL;
    in->buf = NULL;
}
