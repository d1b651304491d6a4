/* libFuzzer target: the C client's decoding of what verdictd sends (the reply reader of
 * sdk/client) and the verdict command's rendering of each reply. The first byte sets the size
 * of the pieces the bytes arrive in, as recv() may cut them; the rest is the stream. Every
 * reply decoded is rendered, and its JSON keeps every value the reply holds. */
#include "../../sdk/client/reply_reader.h"
#include "cli/reply.h"
#include "proto/json_msgpack.h"

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_json(const msgpack_object *o, const json_t *j);

/* A map keeps every key that is UTF-8 text; when no two keys collapsed into one, each value is
 * checked under its key. */
static void check_map(const msgpack_object_map *m, const json_t *j) {
    if (!json_is_object(j) || json_object_size(j) > m->size || (m->size && !json_object_size(j)))
        abort();
    for (uint32_t i = 0; i < m->size; i++) {
        const msgpack_object *k = &m->ptr[i].key;
        if (k->type != MSGPACK_OBJECT_STR && k->type != MSGPACK_OBJECT_BIN) continue;
        json_t *text = json_stringn(k->via.str.ptr, k->via.str.size); /* NULL: not UTF-8 */
        const json_t *v = text ? json_object_getn(j, k->via.str.ptr, k->via.str.size) : NULL;
        if (text && !v) abort();
        if (v && json_object_size(j) == m->size) check_json(&m->ptr[i].val, v);
        json_decref(text);
    }
}

/* The JSON of o holds every value of o, of the same kind; a float JSON cannot hold (NaN, an
 * infinity) is null. */
static void check_json(const msgpack_object *o, const json_t *j) {
    if (!j) abort();
    switch (o->type) {
    case MSGPACK_OBJECT_NIL:
        if (!json_is_null(j)) abort();
        break;
    case MSGPACK_OBJECT_BOOLEAN:
        if (!json_is_boolean(j)) abort();
        break;
    case MSGPACK_OBJECT_POSITIVE_INTEGER:
        if (!json_is_number(j) || json_number_value(j) < 0) abort();
        break;
    case MSGPACK_OBJECT_NEGATIVE_INTEGER:
        if (!json_is_integer(j) || json_integer_value(j) != o->via.i64) abort();
        break;
    case MSGPACK_OBJECT_FLOAT32:
    case MSGPACK_OBJECT_FLOAT64:
        if (isfinite(o->via.f64) ? !json_is_real(j) : !json_is_null(j)) abort();
        break;
    case MSGPACK_OBJECT_STR:
    case MSGPACK_OBJECT_BIN:
        if (!json_is_string(j)) abort();
        break;
    case MSGPACK_OBJECT_ARRAY:
        if (!json_is_array(j) || json_array_size(j) != o->via.array.size) abort();
        for (uint32_t i = 0; i < o->via.array.size; i++)
            check_json(&o->via.array.ptr[i], json_array_get(j, i));
        break;
    case MSGPACK_OBJECT_MAP:
        check_map(&o->via.map, j);
        break;
    default:
        break;
    }
}

/* What the verdict command does with a reply: print it, compact or indented. */
static void render(const vd_client_reply_t *reply) {
    for (int compact = 0; compact <= 1; compact++) {
        int is_error;
        char *text = vd_cli_reply_text(reply, compact, &is_error);
        if (!text || is_error != (reply->error != NULL)) abort();
        free(text);
    }
    if (reply->error) return;
    json_t *j = vd_msgpack_to_json(reply->result);
    check_json(reply->result, j);
    json_decref(j);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size < 1) return 0;
    size_t piece = (size_t)data[0] + 1, off = 1;
    vd__reply_reader_t r;
    vd__reply_reader_init(&r);
    for (int broken = 0; !broken && off < size;) {
        size_t n = piece < size - off ? piece : size - off, room;
        char *buf = vd__reply_reader_room(&r, n, &room);
        if (!buf) break;
        memcpy(buf, data + off, n);
        vd__reply_reader_wrote(&r, n);
        off += n;
        for (;;) {
            vd_client_reply_t reply;
            const char *why = NULL;
            int rc = vd__reply_reader_next(&r, &reply, &why);
            if (rc == 1) break;
            if (rc < 0) {
                if (!why) abort(); /* every refusal says why */
                broken = 1;
                break;
            }
            render(&reply);
        }
    }
    vd__reply_reader_close(&r);
    return 0;
}
