/* A decision's record for the decision log (docs/decision-log.md), written on the worker as
 * the JSON line the log's writer thread only has to append to the file: its id and times, the
 * event as the pipeline's log section lets it be kept, the decision as the reply carried it,
 * and what the decision observed from outside its rules. */
#ifndef VD_DECISION_RECORD_H
#define VD_DECISION_RECORD_H

#include "decision/decision.h"
#include "decision/decision_pack.h"
#include "policy/policy.h"
#include "proto/json_buf.h"

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

/* The same written in place into at[0..most) (room in the log's ring, which never grows):
 * the line's length, or 0 when it does not fit there or a masked event finds no memory. */
size_t vd_decision_record_json_at(char *at, size_t most, msgpack_sbuffer *scratch,
                                  const vd_record_in_t *in);

/* A person's report (the report method), for the decision log's line of type "report". */
typedef struct vd_report_record_in {
    const vd_pipeline_t *pl;
    const char *id;          /* the report's own id */
    const char *decision_id; /* the decision reported, or NULL (an event) */
    size_t decision_id_len;
    const msgpack_object *event; /* the event reported (masked as the pipeline logs it), or NULL */
    int bad;
    const char *reporter; /* NULL: none given */
    size_t reporter_len;
    double weight;
    const char *outcome;
    const struct vd_report_campaign *campaigns; /* after the report */
    int ncampaigns;
    int64_t wall_ms;
} vd_report_record_in_t;

/* A campaign a report reached, as it was after it. */
typedef struct vd_report_campaign {
    uint64_t id;
    int kind;  /* vd_campaign_kind_t */
    int found; /* 0: no longer there (expired or evicted) */
    double bad, good;
    uint64_t reporters, size;
} vd_report_campaign_t;

/* Writes the report's line into sb (cleared first): {"type": "report", "id", "time",
 * "pipeline", "decision_id" or "event", "label", "reporter", "weight", "outcome",
 * "campaigns"}. Returns 0 or VD_ENOMEM. */
int vd_report_record_json(msgpack_sbuffer *sb, msgpack_sbuffer *scratch,
                          const vd_report_record_in_t *in);

/* A campaign's entry of a report's reply and record: {kind, id, found, size, bad, good,
 * reporters}. */
void vd_report_campaign_json(vd_jbuf_t *j, const vd_report_campaign_t *c);

#endif
