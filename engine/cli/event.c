#include "event.h"

#include "proto/json_msgpack.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void pack_options(msgpack_packer *pk, const vd_cli_decide_opts_t *o, int n) {
    msgpack_pack_map(pk, (size_t)n);
    if (o->explain) {
        msgpack_pack_str_with_body(pk, "explain", 7);
        msgpack_pack_true(pk);
    }
    if (o->deadline_ms > 0) {
        msgpack_pack_str_with_body(pk, "deadline_ms", 11);
        msgpack_pack_int64(pk, o->deadline_ms);
    }
}

int vd_cli_event_pack(msgpack_packer *pk, const char *json, size_t len, char *err, size_t errlen) {
    json_error_t jerr;
    json_t *event = json_loadb(json, len, JSON_REJECT_DUPLICATES, &jerr);
    if (!event) {
        snprintf(err, errlen, "the event is not valid JSON: line %d, column %d: %s", jerr.line,
                 jerr.column, jerr.text);
        return -1;
    }
    if (!json_is_object(event)) {
        snprintf(err, errlen, "the event must be a JSON object, like '{\"ip\": \"1.2.3.4\"}'");
        json_decref(event);
        return -1;
    }
    vd_json_pack(pk, event);
    json_decref(event);
    return 0;
}

int vd_cli_decide_params(const char *pipeline, const char *json, size_t len,
                         const vd_cli_decide_opts_t *opts, msgpack_sbuffer *sb, char *err,
                         size_t errlen) {
    msgpack_packer pk;
    msgpack_packer_init(&pk, sb, msgpack_sbuffer_write);
    int nopts = (opts->explain != 0) + (opts->deadline_ms > 0);
    msgpack_pack_array(&pk, nopts ? 3 : 2);
    msgpack_pack_str_with_body(&pk, pipeline, strlen(pipeline));
    if (vd_cli_event_pack(&pk, json, len, err, errlen) != 0) return -1;
    if (nopts) pack_options(&pk, opts, nopts);
    return 0;
}

char *vd_cli_read_stdin(size_t *len) {
    size_t cap = 4096, n;
    char *buf = malloc(cap);
    *len = 0;
    while (buf && (n = fread(buf + *len, 1, cap - *len - 1, stdin)) > 0) {
        *len += n;
        if (cap - *len < 2) {
            char *more = realloc(buf, cap *= 2);
            if (!more) free(buf);
            buf = more;
        }
    }
    if (buf) buf[*len] = '\0';
    return buf;
}
