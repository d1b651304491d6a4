/* hiredis on a libuv loop. hiredis ships an adapter for this (adapters/libuv.h), but the one in
 * Debian 12 (hiredis 0.14) ignores a poll error: when a write meets a server that just died
 * with our bytes unread, libuv reports POLLERR, stops watching the socket, and the adapter drops
 * the error, so the connection is never seen to close and every operation on it waits for its
 * timeout. This one, as later hiredis releases do, lets hiredis read the socket on an error,
 * which reports the close. */
#ifndef VD_REDIS_UV_H
#define VD_REDIS_UV_H

#include <hiredis/async.h>
#include <uv.h>

/* Attaches ac to loop: 0, or -1 (out of memory, or ac has an event library already). */
int vd_redis_uv_attach(redisAsyncContext *ac, uv_loop_t *loop);

#endif
