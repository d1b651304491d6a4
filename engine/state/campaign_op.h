/* A campaign lookup or report as a state operation (state_op.h, VD_OP_CAMPAIGN): what a rule,
 * a plugin or the report method waits for when campaigns live in Redis, and what the embedded
 * index answers instead when Redis does not (the fallback). The scope (or a report's reporter)
 * is the operation's key bytes, the source its value bytes. */
#ifndef VD_CAMPAIGN_OP_H
#define VD_CAMPAIGN_OP_H

#include "campaign.h"
#include "state_op.h"

typedef enum {
    VD_CAMPAIGN_ASK_TEXT,
    VD_CAMPAIGN_ASK_FIELDS,
    VD_CAMPAIGN_ASK_REPORT,
    VD_CAMPAIGN_ASK_REFS, /* the campaigns a decision joined, kept under its id (the op's key) */
    VD_CAMPAIGN_ASK_GET,  /* an operator's look at campaign key of kind */
    VD_CAMPAIGN_ASK_DROP  /* ... and its removal */
} vd_ask_t;

#define VD_CAMPAIGN_REFS     8                    /* campaigns kept for a decision, at most */
#define VD_CAMPAIGN_REFS_TTL (INT64_C(7) * 86400) /* seconds they are kept in Redis */

/* The campaigns a decision joined, and a hash of the name of the pipeline that made it. */
typedef struct vd_campaign_refs {
    uint64_t pipeline;
    uint64_t ids[VD_CAMPAIGN_REFS];
    uint8_t kinds[VD_CAMPAIGN_REFS];
    int n;
} vd_campaign_refs_t;

typedef struct vd_campaign_ask {
    vd_ask_t what;
    vd_campaign_kind_t kind; /* a report's (an operator's) campaign: its kind */
    vd_sketch_t sketch;      /* text */
    uint64_t key;        /* fields: the group's key (campaign_key.h); report, get, drop: the id */
    int64_t window, ttl; /* as asked (0: the default) */
    int look_only;
    int bad;       /* report: "bad" (else "good") */
    double weight; /* report */
    /* The answer. */
    int rc;               /* 0, VD_ENOTFOUND (none, or none near), VD_EINVAL or VD_ENOMEM */
    int matched, created; /* for the index's figures */
    vd_campaign_view_t view;
    vd_campaign_refs_t refs; /* VD_CAMPAIGN_ASK_REFS */
} vd_campaign_ask_t;

/* A heap operation for ask, with copies of o's scope and source (a report: reporter and rlen
 * instead, o NULL; refs: the decision id). NULL when out of memory. */
vd_state_op_t *vd_campaign_op_new(const vd_campaign_ask_t *ask, const vd_campaign_opts_t *o,
                                  const char *reporter, size_t rlen);

/* The ask an operation made with vd_campaign_op_new carries. */
vd_campaign_ask_t *vd_campaign_op_ask(vd_state_op_t *op);

/* The options the operation was asked with (pointing into it). */
void vd_campaign_op_opts(const vd_state_op_t *op, vd_campaign_opts_t *o);

/* Answers the ask on the embedded index (ask->rc, ask->view); c NULL: no campaign. Refs are
 * not the index's: VD_ENOTFOUND. */
void vd_campaign_op_run_local(vd_campaigns_t *c, vd_state_op_t *op);

/* The answer of a finished operation: Redis's, or when it failed, the fallback's (the embedded
 * index, or no campaign when fail_open or there is none); the index's figures count a Redis
 * answer too. */
void vd_campaign_op_resolve(vd_state_op_t *op, vd_campaigns_t *c, int fail_open);

#endif
