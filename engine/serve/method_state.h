/* state_get, state_set and state_reset: the counters, distinct counts and labels that rules
 * keep, by the key a rule gives them (docs/protocol.md). state_set and state_reset are
 * administrative (the admin socket only); each change is logged and counted (change_log.h). */
#ifndef VD_METHOD_STATE_H
#define VD_METHOD_STATE_H

#include "methods.h"

/* state_get [kind, key] -> what the entry holds now. */
void vd_method_state_get(struct vd_server *s, vd_conn_t *c, vd_inbound_t **in);

/* state_set [kind, key, value(, options)] -> the entry's old and new values. */
void vd_method_state_set(struct vd_server *s, vd_conn_t *c, vd_inbound_t **in);

/* state_reset [kind, key] -> the entry's old and new (empty) values. */
void vd_method_state_reset(struct vd_server *s, vd_conn_t *c, vd_inbound_t **in);

#endif
