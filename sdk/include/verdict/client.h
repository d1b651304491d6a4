/* verdict/client.h: a small blocking msgpack-RPC client for verdictd over a Unix socket.
 *
 * One vd_client_t is one connection; it is not thread-safe (use one per thread). Requests
 * carry increasing msgids and replies are matched by msgid, so calls may be pipelined with
 * vd_client_send / vd_client_recv. Link with msgpack-c (pkg-config msgpack). */
#ifndef VERDICT_CLIENT_H
#define VERDICT_CLIENT_H

#include <msgpack.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct vd_client vd_client_t;

/* The largest reply a client reads: a larger one fails the call (and the connection, which
 * cannot be followed past it), so that a broken server cannot make the client hold more. */
#define VD_CLIENT_MAX_REPLY ((size_t)64 << 20)

/* A reply. error is NULL on success, else the error map {code, message}; result is the
 * result object. Both borrow from the client and stay valid until the next receive. */
typedef struct vd_client_reply {
    uint32_t msgid;
    const msgpack_object *error;
    const msgpack_object *result;
} vd_client_reply_t;

/* Connects to the daemon at path. Returns 0, or -1 with a message in err. */
int vd_client_connect(const char *path, vd_client_t **out, char *err, size_t errlen);

/* Closes the connection and frees the client. NULL is allowed. */
void vd_client_close(vd_client_t *c);

/* Sends a request; params is a msgpack-encoded array (params_len bytes). Sets *msgid.
 * Returns 0 or -1 (see vd_client_error). */
int vd_client_send(vd_client_t *c, const char *method, const char *params, size_t params_len,
                   uint32_t *msgid);

/* Waits for the next reply (any msgid). timeout_ms < 0 waits forever. Returns 0 or -1. */
int vd_client_recv(vd_client_t *c, vd_client_reply_t *reply, int timeout_ms);

/* Sends a request and waits for its own reply. Returns 0 or -1. */
int vd_client_call(vd_client_t *c, const char *method, const char *params, size_t params_len,
                   vd_client_reply_t *reply, int timeout_ms);

/* The last transport error of this client, as text. */
const char *vd_client_error(const vd_client_t *c);

/* Copies the "code" and "message" of an error map into the buffers (truncating). */
void vd_client_error_fields(const msgpack_object *error, char *code, size_t code_len, char *message,
                            size_t message_len);

#ifdef __cplusplus
}
#endif

#endif
