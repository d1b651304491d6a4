#include "report_params.h"

#include <math.h>
#include <string.h>

static int str_is(const msgpack_object *o, const char *s) {
    return o->type == MSGPACK_OBJECT_STR && o->via.str.size == strlen(s) &&
           memcmp(o->via.str.ptr, s, o->via.str.size) == 0;
}

static int as_number(const msgpack_object *o, double *out) {
    switch (o->type) {
    case MSGPACK_OBJECT_POSITIVE_INTEGER:
        *out = (double)o->via.u64;
        return 1;
    case MSGPACK_OBJECT_NEGATIVE_INTEGER:
        *out = (double)o->via.i64;
        return 1;
    case MSGPACK_OBJECT_FLOAT32:
    case MSGPACK_OBJECT_FLOAT64:
        *out = o->via.f64;
        return 1;
    default:
        return 0;
    }
}

static const char *read_options(const msgpack_object *o, vd_report_params_t *out) {
    if (o->type != MSGPACK_OBJECT_MAP) return "options must be a map";
    for (uint32_t i = 0; i < o->via.map.size; i++) {
        const msgpack_object *k = &o->via.map.ptr[i].key, *v = &o->via.map.ptr[i].val;
        if (str_is(k, "reporter")) {
            if (v->type != MSGPACK_OBJECT_STR || v->via.str.size == 0 ||
                v->via.str.size > VD_REPORT_MAX_REPORTER)
                return "option reporter must be a string of 1 to 256 bytes";
            out->reporter = v->via.str.ptr;
            out->reporter_len = v->via.str.size;
        } else if (str_is(k, "weight")) {
            if (!as_number(v, &out->weight) || !(out->weight > 0) ||
                out->weight > VD_REPORT_MAX_WEIGHT)
                return "option weight must be a number above 0 and at most 100";
        } else {
            return "unknown option (known: reporter, weight)";
        }
    }
    return NULL;
}

const char *vd_report_params_read(const msgpack_object *params, vd_report_params_t *out) {
    memset(out, 0, sizeof *out);
    out->weight = 1;
    uint32_t n = params->via.array.size;
    const msgpack_object *p = params->via.array.ptr;
    if (n < 3 || n > 4)
        return "report takes [pipeline, subject, label] or [pipeline, subject, label, options]";
    if (p[0].type != MSGPACK_OBJECT_STR || p[0].via.str.size == 0)
        return "pipeline must be a non-empty string";
    out->pipeline = p[0].via.str.ptr;
    out->pipeline_len = p[0].via.str.size;
    if (p[1].type == MSGPACK_OBJECT_STR && p[1].via.str.size > 0 && p[1].via.str.size <= 64) {
        out->decision_id = p[1].via.str.ptr;
        out->decision_id_len = p[1].via.str.size;
    } else if (p[1].type == MSGPACK_OBJECT_MAP) {
        out->event = &p[1];
    } else {
        return "subject must be a decision id (a string of 1 to 64 bytes) or an event (a map)";
    }
    if (str_is(&p[2], "bad"))
        out->bad = 1;
    else if (!str_is(&p[2], "good"))
        return "label must be \"bad\" (spam, abusive) or \"good\" (not spam, legitimate)";
    return n == 4 ? read_options(&p[3], out) : NULL;
}
