/* decide: params [pipeline, event] or [pipeline, event, options]. */
#ifndef VD_METHOD_DECIDE_H
#define VD_METHOD_DECIDE_H

#include "methods.h"

/* Runs the decision through the worker's executor; the reply is packed when it ends, which
 * for a decision that waits for plugins or Redis is after this returns. */
void vd_method_decide(struct vd_server *s, vd_conn_t *c, vd_inbound_t **in);

#endif
