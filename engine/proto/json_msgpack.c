#include "json_msgpack.h"

#include "base/utf8.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void vd_json_pack(msgpack_packer *pk, const json_t *j) {
    switch (json_typeof(j)) {
    case JSON_OBJECT: {
        const char *key;
        json_t *v;
        msgpack_pack_map(pk, json_object_size(j));
        json_object_foreach((json_t *)j, key, v) {
            msgpack_pack_str_with_body(pk, key, strlen(key));
            vd_json_pack(pk, v);
        }
        break;
    }
    case JSON_ARRAY: {
        size_t i;
        json_t *v;
        msgpack_pack_array(pk, json_array_size(j));
        json_array_foreach(j, i, v) vd_json_pack(pk, v);
        break;
    }
    case JSON_STRING:
        msgpack_pack_str_with_body(pk, json_string_value(j), json_string_length(j));
        break;
    case JSON_INTEGER:
        msgpack_pack_int64(pk, json_integer_value(j));
        break;
    case JSON_REAL:
        msgpack_pack_double(pk, json_real_value(j));
        break;
    case JSON_TRUE:
        msgpack_pack_true(pk);
        break;
    case JSON_FALSE:
        msgpack_pack_false(pk);
        break;
    default:
        msgpack_pack_nil(pk);
        break;
    }
}

static json_t *string_json(const char *p, size_t n) {
    json_t *j = json_stringn(p, n);
    if (j) return j;
    /* Not UTF-8 (a bin field or raw mail bytes): keep what is valid, mark the rest, by the
     * same rules as jansson (no overlong forms, surrogates or bytes past U+10FFFF). */
    char *buf = malloc(vd_utf8_repair(p, n, NULL) + 1);
    if (!buf) return NULL;
    j = json_stringn(buf, vd_utf8_repair(p, n, buf));
    free(buf);
    return j;
}

/* A map key as a JSON string: a str or bin key as its text, any other key as "#index". */
static json_t *key_json(const msgpack_object *k, uint32_t i) {
    if (k->type == MSGPACK_OBJECT_STR) return string_json(k->via.str.ptr, k->via.str.size);
    if (k->type == MSGPACK_OBJECT_BIN) return string_json(k->via.bin.ptr, k->via.bin.size);
    char key[16];
    snprintf(key, sizeof key, "#%u", i);
    return json_string(key);
}

json_t *vd_msgpack_to_json(const msgpack_object *o) {
    switch (o->type) {
    case MSGPACK_OBJECT_BOOLEAN:
        return json_boolean(o->via.boolean);
    case MSGPACK_OBJECT_POSITIVE_INTEGER:
        /* jansson's integers stop at INT64_MAX: past it, a real keeps the sign and magnitude */
        return o->via.u64 <= INT64_MAX ? json_integer((json_int_t)o->via.u64)
                                       : json_real((double)o->via.u64);
    case MSGPACK_OBJECT_NEGATIVE_INTEGER:
        return json_integer(o->via.i64);
    case MSGPACK_OBJECT_FLOAT32:
    case MSGPACK_OBJECT_FLOAT64:
        /* JSON has no NaN or infinities: null, as JavaScript's JSON.stringify writes them
         * (jansson makes no value of them, and the entry would vanish). */
        return isfinite(o->via.f64) ? json_real(o->via.f64) : json_null();
    case MSGPACK_OBJECT_STR:
        return string_json(o->via.str.ptr, o->via.str.size);
    case MSGPACK_OBJECT_BIN:
        return string_json(o->via.bin.ptr, o->via.bin.size);
    case MSGPACK_OBJECT_ARRAY: {
        json_t *a = json_array();
        for (uint32_t i = 0; a && i < o->via.array.size; i++)
            json_array_append_new(a, vd_msgpack_to_json(&o->via.array.ptr[i]));
        return a;
    }
    case MSGPACK_OBJECT_MAP: {
        json_t *m = json_object();
        for (uint32_t i = 0; m && i < o->via.map.size; i++) {
            json_t *k = key_json(&o->via.map.ptr[i].key, i);
            json_t *v = vd_msgpack_to_json(&o->via.map.ptr[i].val);
            if (k) /* the key whole, with its length: it may be long or hold a NUL */
                json_object_setn_new(m, json_string_value(k), json_string_length(k), v);
            else
                json_decref(v);
            json_decref(k);
        }
        return m;
    }
    default:
        return json_null();
    }
}
