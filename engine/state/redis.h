/* The Redis state backend: one asynchronous connection per worker (hiredis on the worker's
 * libuv loop). A counter is a hash updated and read by one Lua script, a distinct count a
 * HyperLogLog updated in one MULTI, a label a plain key with an expiry: one key each, hash-
 * tagged, so every operation stays in one Redis Cluster slot. Every operation has a deadline; when
 * Redis is down, slow or refusing, the operation fails at once or at its deadline with a reason,
 * the connection is dropped after repeated timeouts, and reconnection backs off from 100 ms to 5 s.
 */
#ifndef VD_REDIS_H
#define VD_REDIS_H

#include "state_op.h"

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <uv.h>

typedef struct vd_redis_config {
    const char *address;  /* "unix:/path", "/path", "host:port" or "redis://host:port" */
    const char *prefix;   /* put before every key; default "verdict:" */
    int timeout_ms;       /* per operation */
    const char *user;     /* AUTH user (Redis 6 ACL), or NULL */
    const char *password; /* AUTH password, or NULL for none */
} vd_redis_config_t;

typedef struct vd_redis_stats {
    atomic_uint_fast64_t ops;      /* sent */
    atomic_uint_fast64_t failed;   /* not answered: down, error reply or timeout */
    atomic_uint_fast64_t timeouts; /* of those, past their deadline */
    atomic_uint_fast64_t connects; /* successful connections */
    atomic_int connected;
} vd_redis_stats_t;

typedef struct vd_redis vd_redis_t;

/* Reads the AUTH file: "password" or "user password" on its first line. The strings are
 * allocated once for the process. 0, or -1 with a message in err. */
int vd_redis_read_auth(const char *path, const char **user, const char **password, char *err,
                       size_t errlen);

/* Checks an address; 0, or -1 with a message in err. */
int vd_redis_check_address(const char *address, char *err, size_t errlen);

/* A client on loop (not started: connects when the loop runs). NULL when out of memory. */
vd_redis_t *vd_redis_new(uv_loop_t *loop, const vd_redis_config_t *cfg, int worker_id);

/* Sends op; its done callback runs later on the loop. Returns 0, or -1 with the reason in
 * op->why when it cannot be sent now (not connected, too many in flight). */
int vd_redis_submit(vd_redis_t *r, vd_state_op_t *op);

/* Sets a label for ttl seconds (ttl <= 0 removes it) without waiting for the answer. Returns
 * 0, or -1 with the reason in why. */
int vd_redis_label(vd_redis_t *r, const char *key, size_t klen, int64_t ttl, char *why,
                   size_t whylen);

struct vd_campaign_refs;

/* Keeps the campaigns the decision id joined for VD_CAMPAIGN_REFS_TTL seconds, without waiting
 * for the answer (a report by id on any daemon reads them: VD_CAMPAIGN_ASK_REFS). Returns 0, or
 * -1 with the reason in why. */
int vd_redis_keep_refs(vd_redis_t *r, const char *id, size_t len,
                       const struct vd_campaign_refs *refs, char *why, size_t whylen);

/* Closes the connection (pending operations fail) and the client's handles; on its loop. */
void vd_redis_shutdown(vd_redis_t *r);

/* Frees the client once its loop has ended. */
void vd_redis_free(vd_redis_t *r);

/* Figures summed over clients (one per worker). */
typedef struct vd_redis_totals {
    uint64_t ops, fallbacks, timeouts, connects, connected;
} vd_redis_totals_t;

/* Adds r's figures to t (any thread; r may be NULL). */
void vd_redis_totals_add(const vd_redis_t *r, vd_redis_totals_t *t);

#endif
