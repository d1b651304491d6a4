#include "rpc.h"

#include "base/error.h"
#include "base/utf8.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

static const char *const err_names[] = {
#define VD_RPC_ERR_NAME(name, str) str,
    VD_RPC_ERRORS(VD_RPC_ERR_NAME)
#undef VD_RPC_ERR_NAME
};

const char *vd_rpc_err_name(vd_rpc_err_t err) {
    return (unsigned)err < VD_RPC__ERR_COUNT ? err_names[err] : "internal";
}

static int read_u32(const msgpack_object *o, uint32_t *out) {
    if (o->type == MSGPACK_OBJECT_POSITIVE_INTEGER && o->via.u64 <= UINT32_MAX) {
        *out = (uint32_t)o->via.u64;
        return 0;
    }
    return VD_EINVAL;
}

static int fail(const char **why, const char *msg) {
    *why = msg;
    return VD_EPROTO;
}

int vd_rpc_decode(const msgpack_object *root, vd_rpc_msg_t *out, const char **why) {
    memset(out, 0, sizeof *out);
    if (root->type != MSGPACK_OBJECT_ARRAY || root->via.array.size < 3)
        return fail(why, "a message must be an array [type, ...]");
    const msgpack_object *el = root->via.array.ptr;
    uint32_t n = root->via.array.size;
    if (el[0].type != MSGPACK_OBJECT_POSITIVE_INTEGER)
        return fail(why, "message type must be 0 (request) or 2 (notification)");
    uint64_t type = el[0].via.u64;
    const msgpack_object *method, *params;
    if (type == VD_RPC_REQUEST) {
        if (read_u32(&el[1], &out->msgid) == 0) out->has_msgid = 1;
        if (n != 4) return fail(why, "a request must be [0, msgid, method, params]");
        if (!out->has_msgid) return fail(why, "msgid must be an unsigned 32-bit integer");
        method = &el[2];
        params = &el[3];
    } else if (type == VD_RPC_NOTIFY) {
        if (n != 3) return fail(why, "a notification must be [2, method, params]");
        method = &el[1];
        params = &el[2];
    } else {
        return fail(why, "message type must be 0 (request) or 2 (notification)");
    }
    out->kind = (vd_rpc_kind_t)type;
    if (method->type != MSGPACK_OBJECT_STR) return fail(why, "method must be a string");
    if (params->type != MSGPACK_OBJECT_ARRAY) return fail(why, "params must be an array");
    out->method = method->via.str.ptr;
    out->method_len = method->via.str.size;
    out->params = params;
    return 0;
}

void vd_pack_cstr(msgpack_packer *pk, const char *s) {
    size_t n = strlen(s);
    if (vd_utf8_valid_len(s, n) == n) {
        msgpack_pack_str(pk, n);
        msgpack_pack_str_body(pk, s, n);
        return;
    }
    /* Bytes a request sent (an unknown method's name) are echoed as valid UTF-8. */
    size_t m = vd_utf8_repair(s, n, NULL);
    char small[512], *buf = m <= sizeof small ? small : malloc(m);
    if (!buf) m = 0;
    if (buf) vd_utf8_repair(s, n, buf);
    msgpack_pack_str(pk, m);
    msgpack_pack_str_body(pk, buf, m);
    if (buf != small) free(buf);
}

void vd_pack_u64(msgpack_packer *pk, const char *key, uint64_t v) {
    vd_pack_cstr(pk, key);
    msgpack_pack_uint64(pk, v);
}

void vd_rpc_pack_result_head(msgpack_packer *pk, uint32_t msgid) {
    msgpack_pack_array(pk, 4);
    msgpack_pack_uint8(pk, VD_RPC_RESPONSE);
    msgpack_pack_uint32(pk, msgid);
    msgpack_pack_nil(pk);
}

void vd_rpc_pack_error(msgpack_packer *pk, uint32_t msgid, vd_rpc_err_t code, const char *message) {
    msgpack_pack_array(pk, 4);
    msgpack_pack_uint8(pk, VD_RPC_RESPONSE);
    msgpack_pack_uint32(pk, msgid);
    msgpack_pack_map(pk, 2);
    vd_pack_cstr(pk, "code");
    vd_pack_cstr(pk, vd_rpc_err_name(code));
    vd_pack_cstr(pk, "message");
    vd_pack_cstr(pk, message);
    msgpack_pack_nil(pk);
}

const msgpack_object *vd_rpc_map_get(const msgpack_object *map, const char *key, size_t len,
                                     int ci) {
    if (!map || map->type != MSGPACK_OBJECT_MAP) return NULL;
    const msgpack_object_kv *kv = map->via.map.ptr;
    for (uint32_t i = 0; i < map->via.map.size; i++) {
        const msgpack_object *k = &kv[i].key;
        if (k->type != MSGPACK_OBJECT_STR || k->via.str.size != len) continue;
        if (ci ? strncasecmp(k->via.str.ptr, key, len) == 0 : memcmp(k->via.str.ptr, key, len) == 0)
            return &kv[i].val;
    }
    return NULL;
}

int vd_rpc_copy_str(const msgpack_object *o, char *buf, size_t cap) {
    if (o->type != MSGPACK_OBJECT_STR || cap == 0) return VD_EINVAL;
    size_t n = o->via.str.size < cap - 1 ? o->via.str.size : cap - 1;
    memcpy(buf, o->via.str.ptr, n);
    buf[n] = '\0';
    return 0;
}
