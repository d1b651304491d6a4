/* The one logging function: levelled lines on stderr. */
#ifndef VD_LOG_H
#define VD_LOG_H

typedef enum { VD_LOG_DEBUG, VD_LOG_INFO, VD_LOG_WARN, VD_LOG_ERROR } vd_log_level_t;

/* Sets the minimum level written; called once at startup before threads start. */
void vd_log_set_level(vd_log_level_t level);

/* Parses "debug", "info", "warn" or "error"; returns 0 or VD_EINVAL. */
int vd_log_parse_level(const char *name, vd_log_level_t *out);

/* Writes one line (timestamp, level, message) to stderr; thread-safe. */
void vd_log(vd_log_level_t level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif
