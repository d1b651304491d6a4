/* A decision as JSON text, the same map vd_decision_pack gives as msgpack (keys, order and
 * values alike), for the decision log's lines: written from the decision directly, it costs a
 * fraction of packing it and converting the bytes. */
#ifndef VD_DECISION_JSON_H
#define VD_DECISION_JSON_H

#include "decision.h"
#include "decision_pack.h"
#include "proto/json_buf.h"

/* A feature value as JSON. */
void vd_value_json(vd_jbuf_t *j, const vd_value_t *v);

/* Appends the decision's map to j (without an id when m->id is NULL). */
void vd_decision_json(vd_jbuf_t *j, const vd_decision_t *d, const vd_decision_meta_t *m);

#endif
