/* Decoding one complete frame and answering it: the msgpack-RPC methods of DESIGN.md. */
#ifndef VD_DISPATCH_H
#define VD_DISPATCH_H

#include <stddef.h>

struct vd_conn;

/* Handles the msgpack frame data[0..len) read on c, packing the reply into c's output. */
void vd_dispatch_frame(struct vd_conn *c, const char *data, size_t len);

#endif
