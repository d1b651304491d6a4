/* Sending a command to Redis, formatted here. hiredis's own formatting (redisAsyncCommandArgv)
 * builds each argument with a printf-style append and allocates as it goes: with a counter's
 * eighteen fields it was a third of the daemon's work per decision with state in Redis. */
#ifndef VD_REDIS_SEND_H
#define VD_REDIS_SEND_H

#include <hiredis/async.h>
#include <stddef.h>
#include <stdint.h>

/* The bytes a command takes in RESP, at most. */
size_t vd_redis_format_size(int argc, const size_t *lens);

/* Writes the command in RESP at out (vd_redis_format_size bytes of room); returns its length. */
size_t vd_redis_format(char *out, int argc, const char **argv, const size_t *lens);

/* As redisAsyncCommandArgv: REDIS_OK, or REDIS_ERR (the connection is closing, or out of
 * memory). */
int vd_redis_send(redisAsyncContext *ac, redisCallbackFn *fn, void *priv, int argc,
                  const char **argv, const size_t *lens);

/* Writes v in decimal at out (at most 20 bytes); returns where it ends. */
char *vd_redis_put_int(char *out, int64_t v);

#endif
