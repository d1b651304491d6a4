/* One line of replay input: a decision-log record (docs/decision-log.md) or a plain event
 * exported from elsewhere, read into what a replay needs: the pipeline, the event, its time,
 * what was decided, and what the decision observed (to answer again). */
#ifndef VD_REPLAY_RECORD_H
#define VD_REPLAY_RECORD_H

#include "decision/decision.h"

#include <msgpack.h>
#include <stddef.h>
#include <stdint.h>

typedef struct vd_replay_input {
    const char *pipeline;   /* for plain events (a record names its own); NULL: records only */
    const char *time_field; /* of plain events; default "time" */
} vd_replay_input_t;

typedef struct vd_replay_rec {
    char pipeline[256];
    char id[40];                   /* the record's id; plain events get "line:N" */
    const msgpack_object *event;   /* a map */
    const msgpack_object *decided; /* the recorded decision, or NULL (a plain event) */
    int64_t time_ms;               /* the event's time: event_time, the time field, or when it
                                      was decided */
    vd_observed_t *observed;       /* from the record's observed section */
    size_t nobserved;
} vd_replay_rec_t;

/* Reads one JSON line into r: its msgpack goes into mp (cleared first) and its decoded objects
 * and observations into zone (cleared first), both reused from line to line. Returns 0; 1 for
 * a line that is no decision to replay (a log's manifest); or -1 with err saying what is wrong
 * (the caller names the file and line). */
int vd_replay_rec_read(vd_replay_rec_t *r, const char *line, size_t n, long lineno,
                       const vd_replay_input_t *in, msgpack_sbuffer *mp, msgpack_zone *zone,
                       char *err, size_t errlen);

/* A map's value at key, or NULL. */
const msgpack_object *vd_replay_get(const msgpack_object *map, const char *key);

/* An RFC 3339 time ("2026-11-30T06:09:33.767Z", offsets allowed) or a number of Unix seconds
 * (or milliseconds, past 1e11) as Unix milliseconds; -1 when it is neither. */
int64_t vd_replay_time_ms(const msgpack_object *v);

#endif
