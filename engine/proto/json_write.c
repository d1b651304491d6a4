#include "json_write.h"

#include "base/utf8.h"
#include "mpbuf.h"

#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

static int put(msgpack_sbuffer *sb, const char *p, size_t n) {
    if (vd_mp_reserve(sb, n) != 0) return -1;
    memcpy(sb->data + sb->size, p, n);
    sb->size += n;
    return 0;
}

/* Bytes that need no escape in a JSON string: printable ASCII but '"' and '\\', and every byte
 * of a multi-byte character (checked for validity separately). */
static int plain(unsigned char c) {
    return c >= 0x20 && c != '"' && c != '\\' && c != 0x7f;
}

static int put_escaped(msgpack_sbuffer *sb, const char *s, size_t n) {
    size_t i = 0;
    while (i < n) {
        size_t run = i;
        while (run < n && plain((unsigned char)s[run]))
            run++;
        if (run > i && put(sb, s + i, run - i)) return -1;
        if (run == n) break;
        unsigned char c = (unsigned char)s[run];
        char esc[8];
        const char *e = esc;
        size_t len = 2;
        switch (c) {
        case '"':
            e = "\\\"";
            break;
        case '\\':
            e = "\\\\";
            break;
        case '\n':
            e = "\\n";
            break;
        case '\r':
            e = "\\r";
            break;
        case '\t':
            e = "\\t";
            break;
        default:
            len = (size_t)snprintf(esc, sizeof esc, "\\u%04x", c);
            break;
        }
        if (put(sb, e, len)) return -1;
        i = run + 1;
    }
    return 0;
}

int vd_json_write_str(msgpack_sbuffer *sb, const char *s, size_t n) {
    if (put(sb, "\"", 1)) return -1;
    if (vd_utf8_valid_len(s, n) == n) {
        if (put_escaped(sb, s, n)) return -1;
    } else {
        size_t m = vd_utf8_repair(s, n, NULL);
        char *fixed = malloc(m ? m : 1);
        if (!fixed) return -1;
        vd_utf8_repair(s, n, fixed);
        int rc = put_escaped(sb, fixed, m);
        free(fixed);
        if (rc) return -1;
    }
    return put(sb, "\"", 1);
}

int vd_json_write_double(msgpack_sbuffer *sb, double d) {
    if (!isfinite(d)) return put(sb, "null", 4);
    char num[32];
    int n = 0;
    for (int prec = 15; prec <= 17; prec++) { /* the shortest that reads back as d */
        n = snprintf(num, sizeof num, "%.*g", prec, d);
        if (strtod(num, NULL) == d) break;
    }
    /* A whole number keeps a fraction so that readers see a float, as msgpack said. */
    if (!strpbrk(num, ".eEn")) num[n++] = '.', num[n++] = '0';
    return put(sb, num, (size_t)n);
}

int vd_json_write(msgpack_sbuffer *sb, const msgpack_object *o) {
    char num[32];
    switch (o->type) {
    case MSGPACK_OBJECT_NIL:
        return put(sb, "null", 4);
    case MSGPACK_OBJECT_BOOLEAN:
        return o->via.boolean ? put(sb, "true", 4) : put(sb, "false", 5);
    case MSGPACK_OBJECT_POSITIVE_INTEGER:
        return put(sb, num, (size_t)snprintf(num, sizeof num, "%" PRIu64, o->via.u64));
    case MSGPACK_OBJECT_NEGATIVE_INTEGER:
        return put(sb, num, (size_t)snprintf(num, sizeof num, "%" PRId64, o->via.i64));
    case MSGPACK_OBJECT_FLOAT32:
    case MSGPACK_OBJECT_FLOAT64:
        return vd_json_write_double(sb, o->via.f64);
    case MSGPACK_OBJECT_STR:
        return vd_json_write_str(sb, o->via.str.ptr, o->via.str.size);
    case MSGPACK_OBJECT_BIN:
        return vd_json_write_str(sb, o->via.bin.ptr, o->via.bin.size);
    case MSGPACK_OBJECT_ARRAY:
        if (put(sb, "[", 1)) return -1;
        for (uint32_t i = 0; i < o->via.array.size; i++)
            if ((i && put(sb, ",", 1)) || vd_json_write(sb, &o->via.array.ptr[i])) return -1;
        return put(sb, "]", 1);
    case MSGPACK_OBJECT_MAP:
        if (put(sb, "{", 1)) return -1;
        for (uint32_t i = 0; i < o->via.map.size; i++) {
            const msgpack_object_kv *kv = &o->via.map.ptr[i];
            if (i && put(sb, ",", 1)) return -1;
            if (kv->key.type == MSGPACK_OBJECT_STR || kv->key.type == MSGPACK_OBJECT_BIN) {
                if (vd_json_write(sb, &kv->key)) return -1;
            } else { /* JSON keys are strings: the key's own JSON text, quoted */
                msgpack_sbuffer k;
                msgpack_sbuffer_init(&k);
                int rc = vd_json_write(&k, &kv->key);
                rc = rc || vd_json_write_str(sb, k.data ? k.data : "", k.size);
                msgpack_sbuffer_destroy(&k);
                if (rc) return -1;
            }
            if (put(sb, ":", 1) || vd_json_write(sb, &kv->val)) return -1;
        }
        return put(sb, "}", 1);
    case MSGPACK_OBJECT_EXT:
    default:
        return put(sb, "null", 4);
    }
}
