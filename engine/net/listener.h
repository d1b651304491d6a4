/* The listening Unix socket. */
#ifndef VD_LISTENER_H
#define VD_LISTENER_H

#include <stddef.h>

/* Binds and listens on path with the given file mode. A stale socket file left by a crashed
 * daemon is replaced; a live one (something accepts connections) is an error, as is any other
 * kind of file. Returns the non-blocking fd, or a negative VD_E* code with err filled. */
int vd_listener_open(const char *path, unsigned mode, char *err, size_t errlen);

#endif
