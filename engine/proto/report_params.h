/* The params of the report method: a person's verdict on a decision or an event
 * (docs/protocol.md, report). */
#ifndef VD_REPORT_PARAMS_H
#define VD_REPORT_PARAMS_H

#include <msgpack.h>
#include <stddef.h>

#define VD_REPORT_MAX_WEIGHT   100.0 /* one report's weight, at most */
#define VD_REPORT_MAX_REPORTER 256   /* bytes of a reporter's name, at most */

typedef struct vd_report_params {
    const char *pipeline; /* not NUL-terminated; borrowed from params */
    size_t pipeline_len;
    const char *decision_id; /* the subject is a decision id, or NULL */
    size_t decision_id_len;
    const msgpack_object *event; /* the subject is an event (a map), or NULL */
    int bad;                     /* label "bad" (1) or "good" (0) */
    const char *reporter;        /* NULL: anonymous */
    size_t reporter_len;
    double weight; /* default 1 */
} vd_report_params_t;

/* Reads [pipeline, subject, label] or [pipeline, subject, label, options] (options: reporter,
 * weight). Returns NULL, or a static complaint for a bad_request. */
const char *vd_report_params_read(const msgpack_object *params, vd_report_params_t *out);

#endif
