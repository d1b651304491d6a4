/* The serving layer of one worker: frames in, msgpack-RPC methods run, replies out. It decodes
 * each frame once, runs decisions through the worker's executor, and reaches the rest of the
 * daemon (figures, reloads) only through the hooks it was given. */
#ifndef VD_SERVER_H
#define VD_SERVER_H

#include "base/log.h"
#include "base/ulid.h"
#include "exec/executor.h"
#include "net/conn.h"
#include "proto/inbound.h"
#include "proto/rpc.h"
#include "snapshot.h"

#include <stddef.h>
#include <stdint.h>
#include <uv.h>

typedef struct vd_server_hooks {
    /* Fills snap with the whole daemon's figures (any thread). Returns 0 or VD_ENOMEM. */
    int (*snapshot)(void *ud, vd_stats_snapshot_t *snap);
    /* Reads and compiles the policies again and offers them to every worker. Blocking: it is
     * called on the libuv thread pool. On success copies the version (20 bytes); on failure
     * err holds "file:line: message". */
    int (*reload)(void *ud, char *version, char *err, size_t errlen);
    /* True once the daemon has begun to shut down. */
    int (*shutting_down)(void *ud);
    void *ud;
} vd_server_hooks_t;

#define VD_SERVER_SPARES      32
#define VD_SERVER_SPARE_BYTES (64 << 10) /* a frame copy larger than this is not kept */

typedef struct vd_server {
    vd_executor_t *x;
    uv_loop_t *loop; /* reloads run on its thread pool */
    int deadline_ms; /* default deadline of a decision; 0: none */
    vd_server_hooks_t hooks;
    vd_serve_stats_t stats;
    vd_inbound_t *spare[VD_SERVER_SPARES]; /* decoded frames kept for reuse */
    int nspare;
    vd_log_limit_t overload_log;    /* decisions refused as overloaded */
    vd_ulid_gen_t ids;              /* decision ids */
    struct vd_dlog_lane *log;       /* this worker's way into the decision log; NULL: off */
    msgpack_sbuffer record;         /* a decision-log line being written */
    msgpack_sbuffer record_scratch; /* what the line needs packed first (a masked event) */
    uint64_t sample_state;          /* for log.sample */
    int report_limit;               /* reports a reporter may make in an hour (report method) */
} vd_server_t;

/* log: the worker's lane of the decision log, or NULL. */
void vd_server_init(vd_server_t *s, vd_executor_t *x, uv_loop_t *loop, int deadline_ms,
                    const vd_server_hooks_t *hooks, struct vd_dlog_lane *log);
void vd_server_close(vd_server_t *s);

/* Handles the frame data[0..len) read on c (a vd_conn_env_t on_frame handler). */
void vd_server_frame(vd_server_t *s, vd_conn_t *c, const char *data, size_t len);

/* Gives back a decoded frame a method kept (a decision that has ended). */
void vd_server_recycle(vd_server_t *s, vd_inbound_t *in);

/* Packs an error reply to msgid on c and counts it. */
void vd_server_error(vd_server_t *s, vd_conn_t *c, uint32_t msgid, vd_rpc_err_t code,
                     const char *fmt, ...) __attribute__((format(printf, 5, 6)));

/* After one huge record, a buffer is not kept at its size. */
static inline void vd_server_let_go_if_huge(msgpack_sbuffer *b) {
    if (b->alloc > (1 << 20)) {
        msgpack_sbuffer_destroy(b);
        msgpack_sbuffer_init(b);
    }
}

/* Packs the error reply for a pipeline the policy does not have, naming those it has. */
void vd_server_unknown_pipeline(vd_server_t *s, vd_conn_t *c, uint32_t msgid, const char *name,
                                size_t len);

#endif
