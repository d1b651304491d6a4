/* The params of decide: [pipeline, event] or [pipeline, event, options] (docs/protocol.md). */
#ifndef VD_DECIDE_PARAMS_H
#define VD_DECIDE_PARAMS_H

#include <msgpack.h>
#include <stddef.h>
#include <stdint.h>

typedef struct vd_decide_params {
    const char *pipeline; /* not NUL-terminated */
    size_t pipeline_len;
    const msgpack_object *event; /* a map with string keys */
    int explain;
    int has_deadline; /* deadline_ms was given (0 then means none) */
    int64_t deadline_ms;
} vd_decide_params_t;

/* Reads params (borrowed from them). Returns NULL, or a static complaint for a bad_request. */
const char *vd_decide_params_read(const msgpack_object *params, vd_decide_params_t *out);

/* Checks that event is a map with string keys; NULL, or a static complaint. */
const char *vd_decide_check_event(const msgpack_object *event);

#endif
