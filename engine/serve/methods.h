/* The msgpack-RPC methods (docs/protocol.md): two lists, from which the dispatch table and
 * the "known methods" of the unknown_method error are both made. The administrative methods
 * change state: they run only for connections of the admin socket (verdictd --admin-socket);
 * elsewhere they are answered forbidden. */
#ifndef VD_METHODS_H
#define VD_METHODS_H

#include "net/conn.h"
#include "proto/inbound.h"

#include <stddef.h>

struct vd_server;

/* X(name, handler): every method, in the order the error message names them. */
#define VD_METHODS(X)                                                                              \
    X("decide", vd_method_decide)                                                                  \
    X("ping", vd_method_ping)                                                                      \
    X("pipelines", vd_method_pipelines)                                                            \
    X("stats", vd_method_stats)                                                                    \
    X("reload", vd_method_reload)                                                                  \
    X("state_get", vd_method_state_get)                                                            \
    X("list_check", vd_method_list_check)                                                          \
    X("report", vd_method_report)

/* X(name, handler): the administrative methods. */
#define VD_ADMIN_METHODS(X)                                                                        \
    X("state_set", vd_method_state_set)                                                            \
    X("state_reset", vd_method_state_reset)

/* Packs the whole reply to the request in *in (or starts an asynchronous one) on c. A method
 * that keeps the decoded frame past its return sets *in to NULL and gives it back later with
 * vd_server_recycle. */
typedef void (*vd_method_fn)(struct vd_server *s, vd_conn_t *c, vd_inbound_t **in);

typedef struct vd_method {
    const char *name;
    vd_method_fn handle;
    int admin; /* only on the admin socket */
} vd_method_t;

/* The method called name (len bytes), or NULL. */
const vd_method_t *vd_method_find(const char *name, size_t len);

/* "decide, ping, pipelines, stats, reload, ...": every method, administrative ones last */
const char *vd_method_names(void);

#endif
