/* Changed decisions kept as samples: a copy of what a reader needs to see one (id, time,
 * actions, scores, reasons) and the bounded set of them each pipeline keeps. */
#ifndef VD_REPLAY_REPORT_SAMPLE_H
#define VD_REPLAY_REPORT_SAMPLE_H

#include "replay/report_data.h"

#include <stddef.h>
#include <stdint.h>

typedef struct vd_sample_side {
    uint32_t action; /* action id (VD_ACT_NONE: no decision) */
    double score;
    /* The reasons as compact JSON: the row's text as parsed and written again, or, when it
     * was not JSON, that text as one JSON string. NULL when the row had none. */
    char *reasons;
    uint32_t *rules; /* rule ids, as counted */
    size_t nrules;
} vd_sample_side_t;

struct vd_sample {
    uint64_t seq; /* the row's number, from 1 */
    char *id;     /* NULL when the row had none */
    int64_t time_ms;
    uint32_t pipeline;
    int label;
    vd_sample_side_t side[VD_SIDES];
};

/* What a row offers the samples: the row and what the report made of it. */
typedef struct vd_sample_in {
    const vd_replay_row_t *row;
    uint64_t seq;
    uint32_t pipeline;
    uint32_t action[VD_SIDES];
    const uint32_t *rules[VD_SIDES];
    size_t nrules[VD_SIDES];
} vd_sample_in_t;

/* An empty set whose reservoir draws from a generator seeded by seed (the pipeline's name). */
void vd__samples_init(vd_samples_t *s, const char *seed);
void vd__samples_free(vd_samples_t *s);

/* Offers a changed decision: kept when among the first nfirst, else in the reservoir of
 * nreservoir with the probability algorithm R gives it. Returns 0 or VD_ENOMEM (the set is
 * then as before, apart from the count of later decisions). */
int vd__samples_offer(vd_samples_t *s, size_t nfirst, size_t nreservoir, const vd_sample_in_t *in);

/* The kept samples in input order, as a new array (free it) of *n items; NULL with *n = 0
 * when there are none or memory ran out (*n is then SIZE_MAX). */
const vd_sample_t **vd__samples_sorted(const vd_samples_t *s, size_t *n);

#endif
