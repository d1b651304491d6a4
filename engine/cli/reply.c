#include "reply.h"

#include "proto/json_msgpack.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static char *error_text(const msgpack_object *error) {
    char code[64], message[4096];
    vd_client_error_fields(error, code, sizeof code, message, sizeof message);
    size_t n = strlen(code) + strlen(message) + sizeof "error : ";
    char *s = malloc(n);
    if (s) snprintf(s, n, "error %s: %s", code, message);
    return s;
}

char *vd_cli_reply_text(const vd_client_reply_t *r, int compact, int *is_error) {
    *is_error = r->error != NULL;
    if (r->error) return error_text(r->error);
    json_t *j = vd_msgpack_to_json(r->result);
    size_t flags =
        JSON_ENCODE_ANY | JSON_REAL_PRECISION(10) | (compact ? JSON_COMPACT : JSON_INDENT(2));
    char *s = j ? json_dumps(j, flags) : NULL;
    json_decref(j);
    return s;
}
