/* The decide result map (docs/protocol.md), packed from a vd_decision_t. */
#ifndef VD_DECISION_PACK_H
#define VD_DECISION_PACK_H

#include "decision.h"

#include <msgpack.h>

typedef struct vd_decision_meta {
    const char *pipeline, *policy;
    int64_t elapsed_us;
    const char *id; /* the decision's id (base/ulid.h), or NULL */
} vd_decision_meta_t;

/* Packs one value (a feature's) as its msgpack type. */
void vd_value_pack(msgpack_sbuffer *sb, const vd_value_t *v);

/* Packs the result map into sb: action, score, reasons, tags, pipeline, policy, elapsed_us,
 * features, faults, and when present id, stopped_by, shadow and trace. */
void vd_decision_pack(msgpack_sbuffer *sb, const vd_decision_t *d, const vd_decision_meta_t *m);

#endif
