/* A decision's record for the decision log (docs/decision-log.md), packed as msgpack on the
 * worker: its id and times, the event as the pipeline's log section lets it be kept, the
 * decision as the reply carried it, and what the decision observed from outside its rules.
 * The log's writer thread turns it into a JSON line. */
#ifndef VD_DECISION_RECORD_H
#define VD_DECISION_RECORD_H

#include "decision/decision.h"
#include "decision/decision_pack.h"
#include "policy/policy.h"

#include <msgpack.h>
#include <stdint.h>

typedef struct vd_record_in {
    const vd_pipeline_t *pl;
    const msgpack_object *event;
    const char *event_bytes; /* the event as it came, when known (copied as is without masks) */
    size_t event_len;
    const vd_decision_t *d;
    const vd_decision_meta_t *meta; /* with the id */
    const char *reply;              /* the result map as packed for the reply, or NULL */
    size_t reply_len;
    int64_t wall_ms; /* when the decision was made */
} vd_record_in_t;

/* Packs the record into sb (cleared first). */
void vd_decision_record_pack(msgpack_sbuffer *sb, const vd_record_in_t *in);

#endif
