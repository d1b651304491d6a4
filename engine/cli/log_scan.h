/* One decision-log line checked and read in one pass, for `verdict log`. The line must be a
 * JSON object (RFC 8259, strings in valid UTF-8); the scan keeps only what the filters and
 * the counts need (type, id, time, pipeline, actions, the rules that fired) and skips the rest,
 * event and observed included, without building anything. Why not jansson: on a log of a
 * million real records (1.5 KB each) json_loadb alone takes 25 s of CPU (about 60 MB/s, 40,000
 * records/s), this scan 1.6 s (about 1 GB/s, 600,000 records/s; tests/bench/log_read.sh).
 * jansson still renders the records that are shown. Duplicate keys: the last one counts, as
 * with jansson. */
#ifndef VD_CLI_LOG_SCAN_H
#define VD_CLI_LOG_SCAN_H

#include <stddef.h>
#include <stdint.h>

/* Nesting deeper than this is refused (jansson's own limit). */
#define VD_LOG_MAX_DEPTH 2048

/* A string of the line with its escapes decoded: it points into the line when it had none,
 * else into the record's scratch space. Not NUL-terminated. */
typedef struct vd_log_str {
    const char *p;
    size_t n;
} vd_log_str_t;

/* Where a fired rule was named. */
typedef enum vd_log_rule_from {
    VD_LOG_LIVE_REASON,
    VD_LOG_LIVE_STOP,
    VD_LOG_SHADOW_REASON,
    VD_LOG_SHADOW_STOP
} vd_log_rule_from_t;

typedef struct vd_log_rule {
    vd_log_str_t name;
    vd_log_rule_from_t from;
} vd_log_rule_t;

/* What one line holds. A field that is absent, or not of its type, has p == NULL. */
typedef struct vd_log_rec {
    vd_log_str_t type;        /* lines that are not decision records say their type */
    vd_log_str_t id, time;    /* time as written (RFC 3339, UTC) */
    vd_log_str_t decision_id; /* a report line: the decision it reports */
    int64_t time_ms;          /* time in milliseconds since 1970 (valid when has_time) */
    int has_time;             /* set by vd_log_rec_check */
    int has_decision;         /* "decision" is an object */
    vd_log_str_t action, pipeline;
    int has_shadow; /* decision.shadow is an object */
    vd_log_str_t shadow_action;
    vd_log_rule_t *rules; /* reasons' and stopped_by's rules, live and shadow */
    size_t nrules, rules_cap;
    char *scratch; /* decoded strings (never longer than the line) */
    size_t scratch_len, scratch_cap;
    const char *error; /* why vd_log_scan failed, and at which byte of the line */
    size_t error_at;
} vd_log_rec_t;

/* Scans line[0..len) into rec (reused from line to line: its buffers grow as needed).
 * Returns 0 when the line is a JSON object; -1 with rec->error and rec->error_at when it is
 * not (or memory ran out). Whether it is a decision record is vd_log_rec_check's question. */
int vd_log_scan(vd_log_rec_t *rec, const char *line, size_t len);

/* NULL when rec (scanned) is a typed line or a decision record with what every record has
 * (id, a valid time, decision.action and decision.pipeline), else what it lacks. */
const char *vd_log_rec_check(vd_log_rec_t *rec);

/* Whether s equals the n bytes at name. */
int vd_log_str_eq(vd_log_str_t s, const char *name, size_t n);

/* Frees rec's buffers; rec is then empty, ready for reuse. */
void vd_log_rec_free(vd_log_rec_t *rec);

#endif
