/* msgpack-RPC messages: decoding requests from msgpack objects and packing responses.
 * No libuv here, so the codec can be unit-tested and fuzzed alone. */
#ifndef VD_RPC_H
#define VD_RPC_H

#include <msgpack.h>
#include <stddef.h>
#include <stdint.h>

/* Error codes of the protocol (docs/protocol.md), as sent in the "code" field. */
#define VD_RPC_ERRORS(X)                                                                           \
    X(BAD_REQUEST, "bad_request")                                                                  \
    X(UNKNOWN_METHOD, "unknown_method")                                                            \
    X(UNKNOWN_PIPELINE, "unknown_pipeline")                                                        \
    X(TOO_LARGE, "too_large")                                                                      \
    X(TIMEOUT, "timeout")                                                                          \
    X(OVERLOADED, "overloaded")                                                                    \
    X(SHUTTING_DOWN, "shutting_down")                                                              \
    X(POLICY_ERROR, "policy_error")                                                                \
    X(FORBIDDEN, "forbidden")                                                                      \
    X(INTERNAL, "internal")

typedef enum {
#define VD_RPC_ERR_ENUM(name, str) VD_RPC_##name,
    VD_RPC_ERRORS(VD_RPC_ERR_ENUM)
#undef VD_RPC_ERR_ENUM
        VD_RPC__ERR_COUNT
} vd_rpc_err_t;

/* The wire name of an error code, e.g. "bad_request". */
const char *vd_rpc_err_name(vd_rpc_err_t err);

typedef enum { VD_RPC_REQUEST = 0, VD_RPC_RESPONSE = 1, VD_RPC_NOTIFY = 2 } vd_rpc_kind_t;

/* A decoded request or notification. Pointers borrow from the msgpack object. */
typedef struct vd_rpc_msg {
    vd_rpc_kind_t kind;
    int has_msgid; /* set as soon as a msgid could be read, even if decoding failed later */
    uint32_t msgid;
    const char *method;
    size_t method_len;
    const msgpack_object *params; /* an array */
} vd_rpc_msg_t;

/* Decodes a request or notification. Returns 0, or VD_EPROTO with *why set to a static
 * explanation; out->has_msgid tells whether an error reply can be addressed. */
int vd_rpc_decode(const msgpack_object *root, vd_rpc_msg_t *out, const char **why);

/* Packs [1, msgid, nil, ...]: the caller packs the result next. */
void vd_rpc_pack_result_head(msgpack_packer *pk, uint32_t msgid);

/* Packs a whole error response [1, msgid, {code, message}, nil]. */
void vd_rpc_pack_error(msgpack_packer *pk, uint32_t msgid, vd_rpc_err_t code, const char *message);

/* Packs a NUL-terminated string. */
void vd_pack_cstr(msgpack_packer *pk, const char *s);

/* Packs a map entry: the key, then an unsigned integer. */
void vd_pack_u64(msgpack_packer *pk, const char *key, uint64_t v);

/* Looks up a string key in a msgpack map, exactly or ignoring ASCII case; NULL when absent
 * or when map is not a map. */
const msgpack_object *vd_rpc_map_get(const msgpack_object *map, const char *key, size_t len,
                                     int ci);

/* Copies a msgpack string/bin object into a NUL-terminated buffer of size cap (truncating).
 * Returns 0, or VD_EINVAL when the object is not a string. */
int vd_rpc_copy_str(const msgpack_object *o, char *buf, size_t cap);

#endif
