/* The table of msgpack-RPC methods and the reply helpers they share. */
#ifndef VD_METHODS_H
#define VD_METHODS_H

#include "../proto/rpc.h"

struct vd_conn;

typedef struct {
    const char *name;
    /* Packs the whole reply (or starts an asynchronous one) for request m on c. */
    void (*handle)(struct vd_conn *c, const vd_rpc_msg_t *m);
} vd_method_t;

/* NULL-terminated. */
extern const vd_method_t vd_methods[];

/* Packs an error reply and counts it. */
void vd_reply_error(struct vd_conn *c, uint32_t msgid, vd_rpc_err_t code, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

#endif
