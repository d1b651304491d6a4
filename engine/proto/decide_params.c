#include "decide_params.h"

#include <string.h>

static int key_is(const msgpack_object *k, const char *name, size_t len) {
    return k->via.str.size == len && memcmp(k->via.str.ptr, name, len) == 0;
}

/* Reads the options map; returns NULL or a static complaint. */
static const char *read_options(const msgpack_object *o, vd_decide_params_t *out) {
    if (o->type != MSGPACK_OBJECT_MAP) return "options must be a map";
    for (uint32_t i = 0; i < o->via.map.size; i++) {
        const msgpack_object *k = &o->via.map.ptr[i].key, *v = &o->via.map.ptr[i].val;
        if (k->type != MSGPACK_OBJECT_STR) return "option names must be strings";
        if (key_is(k, "explain", 7)) {
            if (v->type != MSGPACK_OBJECT_BOOLEAN) return "option explain must be a boolean";
            out->explain = v->via.boolean;
        } else if (key_is(k, "deadline_ms", 11)) {
            if (v->type != MSGPACK_OBJECT_POSITIVE_INTEGER || v->via.u64 > 3600000)
                return "option deadline_ms must be an integer from 0 to 3600000";
            out->deadline_ms = (int64_t)v->via.u64;
            out->has_deadline = 1;
        } else {
            return "unknown option (known: explain, deadline_ms)";
        }
    }
    return NULL;
}

const char *vd_decide_check_event(const msgpack_object *event) {
    if (event->type != MSGPACK_OBJECT_MAP) return "event must be a map";
    for (uint32_t i = 0; i < event->via.map.size; i++)
        if (event->via.map.ptr[i].key.type != MSGPACK_OBJECT_STR)
            return "event keys must be strings";
    return NULL;
}

const char *vd_decide_params_read(const msgpack_object *params, vd_decide_params_t *out) {
    memset(out, 0, sizeof *out);
    uint32_t n = params->via.array.size;
    const msgpack_object *p = params->via.array.ptr;
    if (n < 2 || n > 3) return "decide takes [pipeline, event] or [pipeline, event, options]";
    if (p[0].type != MSGPACK_OBJECT_STR) return "pipeline must be a string";
    const char *bad = vd_decide_check_event(&p[1]);
    if (bad) return bad;
    out->pipeline = p[0].via.str.ptr;
    out->pipeline_len = p[0].via.str.size;
    out->event = &p[1];
    return n == 3 ? read_options(&p[2], out) : NULL;
}
