/* ping, pipelines and reload. */
#ifndef VD_METHOD_ADMIN_H
#define VD_METHOD_ADMIN_H

#include "methods.h"

/* ping -> "pong" */
void vd_method_ping(struct vd_server *s, vd_conn_t *c, vd_inbound_t **in);

/* pipelines -> what the worker's policy declares, pipeline by pipeline. */
void vd_method_pipelines(struct vd_server *s, vd_conn_t *c, vd_inbound_t **in);

/* reload -> the new policy version, once every worker has it; runs on the thread pool. */
void vd_method_reload(struct vd_server *s, vd_conn_t *c, vd_inbound_t **in);

#endif
