/* The one logging function: levelled lines on stderr. */
#ifndef VD_LOG_H
#define VD_LOG_H

#include <stdint.h>

typedef enum { VD_LOG_DEBUG, VD_LOG_INFO, VD_LOG_WARN, VD_LOG_ERROR } vd_log_level_t;

/* Sets the minimum level written; called once at startup before threads start. */
void vd_log_set_level(vd_log_level_t level);

/* Parses "debug", "info", "warn" or "error"; returns 0 or VD_EINVAL. */
int vd_log_parse_level(const char *name, vd_log_level_t *out);

/* A repeated event logged at most once an interval: the first line at once, then one line an
 * interval saying how many were not logged. Owned by one thread. */
typedef struct vd_log_limit {
    int64_t logged_ns; /* monotonic time of the last line; 0: none yet */
    uint64_t skipped;  /* events since then that were not logged */
} vd_log_limit_t;

/* 1 when the event at now_ns may be logged, with *skipped the events not logged since the last
 * line; else 0 (the event is counted as skipped). */
int vd_log_limit_pass(vd_log_limit_t *l, int64_t interval_ns, int64_t now_ns,
                      unsigned long long *skipped);

/* Writes one line (timestamp, level, message) to stderr; thread-safe. */
void vd_log(vd_log_level_t level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif
