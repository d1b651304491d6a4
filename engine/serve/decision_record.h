/* A decision's record for the decision log (docs/decision-log.md), written on the worker as
 * the JSON line the log's writer thread only has to append to the file: its id and times, the
 * event as the pipeline's log section lets it be kept, the decision as the reply carried it,
 * and what the decision observed from outside its rules. */
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
    int64_t wall_ms;                /* when the decision was made */
} vd_record_in_t;

/* Writes the record into sb (cleared first) as one JSON line, its newline included; scratch
 * holds what is packed on the way (a masked event). Returns 0, or VD_ENOMEM (sb then holds no
 * whole line). */
int vd_decision_record_json(msgpack_sbuffer *sb, msgpack_sbuffer *scratch,
                            const vd_record_in_t *in);

#endif
