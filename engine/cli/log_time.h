/* Times for `verdict log`: the records' RFC 3339 times and the --since/--until arguments, as
 * milliseconds since 1970 (UTC). */
#ifndef VD_CLI_LOG_TIME_H
#define VD_CLI_LOG_TIME_H

#include <stddef.h>
#include <stdint.h>

/* Parses s[0..n): an RFC 3339 time (2026-11-30T06:09:33.767Z, 2026-11-30T07:09:33+01:00; 't'
 * or a space for 'T' and 'z' for 'Z' too; digits past milliseconds are dropped) or a plain date
 * (2026-11-30: its midnight, UTC). Returns 0, or -1 when s is neither. */
int vd_log_time_parse(const char *s, size_t n, int64_t *ms);

/* A --since or --until argument: a time as vd_log_time_parse reads it, or a duration before
 * now_ms written as numbers with units s, m, h, d or w (30m, 2h, 3d, 1h30m). Returns 0 or
 * -1. */
int vd_log_time_arg(const char *arg, int64_t now_ms, int64_t *ms);

#endif
