/* stats: the daemon's figures (docs/protocol.md). */
#ifndef VD_METHOD_STATS_H
#define VD_METHOD_STATS_H

#include "methods.h"

void vd_method_stats(struct vd_server *s, vd_conn_t *c, vd_inbound_t **in);

#endif
