/* One request frame, copied and decoded once into memory it owns: the decoded message can
 * outlive the connection's read buffer (a decision that waits for a plugin or Redis keeps it)
 * and nobody decodes it twice. */
#ifndef VD_INBOUND_H
#define VD_INBOUND_H

#include "rpc.h"

#include <msgpack.h>
#include <stddef.h>

typedef struct vd_inbound {
    char *bytes; /* the frame's copy; decoded objects point into it */
    size_t len, cap;
    msgpack_zone zone; /* the decoded objects */
    vd_rpc_msg_t msg;  /* the envelope, once vd_inbound_read succeeded */
    size_t footprint;  /* bytes the frame holds (its copy and decoded tree), once decoded */
} vd_inbound_t;

/* A new, empty holder; NULL when out of memory. */
vd_inbound_t *vd_inbound_new(void);

/* Copies the frame data[0..len) and decodes it. Returns 0; VD_EPROTO with *why set to a static
 * explanation when it is not a request or notification (in->msg.has_msgid tells whether the
 * error can be answered); VD_ENOMEM. */
int vd_inbound_read(vd_inbound_t *in, const char *data, size_t len, const char **why);

/* Forgets the frame, keeping buffers for the next one. */
void vd_inbound_clear(vd_inbound_t *in);

void vd_inbound_free(vd_inbound_t *in);

#endif
