/* The decision a pipeline builds for one request: score, reasons, tags, features, faults,
 * the shadow outcome and the optional trace. All memory comes from the request's arena. */
#ifndef VD_DECISION_H
#define VD_DECISION_H

#include "base/arena.h"
#include "base/vec.h"

#include <stddef.h>
#include <stdint.h>

typedef enum { VD_VAL_NIL, VD_VAL_BOOL, VD_VAL_INT, VD_VAL_NUM, VD_VAL_STR } vd_val_type_t;

typedef struct vd_value {
    vd_val_type_t type;
    union {
        int b;
        int64_t i;
        double n;
        struct {
            const char *ptr;
            size_t len;
        } s;
    } u;
} vd_value_t;

typedef struct vd_reason {
    const char *rule, *stage; /* borrowed from the policy, which outlives the request */
    double score;
    const char *detail; /* arena copy or NULL */
    const char *head;   /* the policy's {"rule":...,"stage":...,"score": for the log, or NULL */
    size_t head_len;
} vd_reason_t;

typedef struct vd_feature {
    const char *name;
    vd_value_t value;
    int shadow; /* set by a shadow stage: reported, invisible to non-shadow stages */
} vd_feature_t;

/* A rule or stage that failed at run time (error, budget, memory). */
typedef struct vd_fault {
    const char *stage, *rule, *message;
} vd_fault_t;

/* A feature a rule read (ctx.features.name), as it was then. */
typedef struct vd_trace_read {
    const char *name;
    int found;
    vd_value_t value;
} vd_trace_read_t;

/* A lookup a rule made in a list or a set (list:has, set:has, a verdict.when condition), for
 * explain: what was looked up, where, and what it found. */
typedef struct vd_trace_lookup {
    const char *in;    /* the list file's path, or what kind of set */
    const char *value; /* what was looked up */
    const char *entry; /* the entry that matched (the most specific), or NULL */
    int hit;
} vd_trace_lookup_t;

/* What explain says of one rule (or of a plugin stage's call). */
typedef struct vd_trace_rule {
    const char *rule;
    const char *description; /* the rule's, for people; or NULL */
    const char *skipped; /* why it did not run (an earlier stop, the stage's timeout); or NULL */
    int fired;
    double score;
    const char *detail; /* when it fired, the reason's */
    const char *error;
    const char *stop;          /* the action it stopped the pipeline with, or NULL */
    uint32_t obs_from, obs_to; /* the entries of observed its state reads made */
    vd_vec_t reads;            /* vd_trace_read_t, each feature once */
    vd_vec_t lookups;          /* vd_trace_lookup_t, in order */
} vd_trace_rule_t;

typedef struct vd_trace_stage {
    const char *stage;
    const char *description; /* or NULL */
    const char *plugin;      /* a plugin stage: the plugin's name; else NULL */
    const char *skipped;     /* why it did not run; or NULL */
    int shadow;
    int64_t elapsed_ns;
    double score;
    vd_vec_t rules; /* vd_trace_rule_t */
} vd_trace_stage_t;

/* A threshold of the pipeline, for explain's arithmetic. */
typedef struct vd_trace_bound {
    const char *action;
    double at;
} vd_trace_bound_t;

/* What the stages contributed to one side (the real one or the shadow one). */
typedef struct vd_outcome {
    double score;
    vd_vec_t reasons; /* vd_reason_t */
    vd_vec_t tags;    /* const char * */
    const char *stop_action, *stop_rule;
} vd_outcome_t;

/* What a decision read from outside its rules: kept when the decision is logged, so that a
 * replay can give the rules the same answers (docs/decision-log.md). */
typedef enum {
    VD_OBS_COUNTER,
    VD_OBS_DISTINCT,
    VD_OBS_LABELED,
    VD_OBS_PLUGIN,
    VD_OBS_PROFILE, /* a profile read: name the entity, packed the attributes and the answer */
    VD_OBS_ANOMALY, /* an anomaly score: name the series, packed the value and the verdict */
    VD_OBS_CAMPAIGN /* verdict.campaign: the view packed (msgpack map, or nil: no campaign) */
} vd_obs_kind_t;

#define VD_OBS_RESULTS 3 /* a counter's windows (state/store.h VD_WINDOWS) */

typedef struct vd_observed {
    vd_obs_kind_t kind;
    const char *name; /* state: the key; a plugin: its stage */
    size_t len;
    const char *value; /* distinct: the value added (NULL: a read); campaign: the source */
    size_t vlen;
    int64_t n;                   /* counter: the amount added */
    int64_t res[VD_OBS_RESULTS]; /* state: the answer (labeled: seconds left, -1 unset) */
    const char *packed; /* a plugin: its outputs as msgpack (vd_plugin_call_pack); a campaign:
                           its view */
    size_t plen;
    int json; /* packed is JSON text, not msgpack: a decision logged and not explained keeps
                 what only its log line will read as that line's text (vd_observe_as_json) */
} vd_observed_t;

/* A campaign a decision joined or found (state/campaign.h): what a report on the decision
 * reaches. */
typedef struct vd_campaign_ref {
    uint64_t id;
    int kind; /* vd_campaign_kind_t */
} vd_campaign_ref_t;

#define VD_DECISION_CAMPAIGNS 8 /* campaigns a decision remembers, at most (the first ones) */

typedef struct vd_decision {
    vd_arena_t *arena;
    vd_outcome_t main, shadow;
    int has_shadow;
    int explain;
    vd_vec_t features;          /* vd_feature_t */
    vd_vec_t faults;            /* vd_fault_t */
    vd_vec_t trace;             /* vd_trace_stage_t, only with explain */
    vd_vec_t bounds;            /* vd_trace_bound_t, ascending, only with explain */
    const char *default_action; /* below every bound; only with explain */
    const char *action, *shadow_action;
    int observe;       /* keep what the decision reads from outside (it is logged, or explained) */
    vd_vec_t observed; /* vd_observed_t */
    struct vd_recorded *recorded; /* a replay's answers from the record (recorded.h), or NULL */
    /* A report's run (the report method given an event): campaign calls find campaigns and
     * count nothing, and every campaign found is noted. */
    int reporting;
    vd_campaign_ref_t campaigns[VD_DECISION_CAMPAIGNS];
    int ncampaigns;
} vd_decision_t;

void vd_decision_init(vd_decision_t *d, vd_arena_t *arena, int explain);

/* Whether what a binding observes for d goes as JSON text (only the decision log reads it)
 * rather than msgpack (explain packs it into the reply). */
static inline int vd_observe_as_json(const vd_decision_t *d) {
    return d->observe && !d->explain;
}

/* Notes a campaign the decision joined or found, once; past VD_DECISION_CAMPAIGNS, nothing. */
void vd_decision_note_campaign(vd_decision_t *d, int kind, uint64_t id);

int vd_decision_add_reason(vd_decision_t *d, int shadow, const char *rule, const char *stage,
                           double score, const char *detail, size_t detail_len);

/* Adds a tag once (duplicates are ignored); the text is copied. */
int vd_decision_add_tag(vd_decision_t *d, int shadow, const char *tag, size_t len);

/* The same for a NUL-terminated tag that outlives the decision (a rule's, from the policy the
 * request holds): kept by pointer, not copied. */
int vd_decision_add_lasting_tag(vd_decision_t *d, int shadow, const char *tag);

/* Sets or replaces a feature; name and string values are copied. */
int vd_decision_set_feature(vd_decision_t *d, int shadow, const char *name, size_t len,
                            const vd_value_t *value);

/* Finds a feature by name; shadow features are visible only when see_shadow is set. */
const vd_feature_t *vd_decision_feature(const vd_decision_t *d, const char *name, size_t len,
                                        int see_shadow);

/* How the decision log and explain name an observation's kind: "counter", "distinct",
 * "labeled", "plugin", "profile". */
const char *vd_obs_name(vd_obs_kind_t kind);

/* The same as the start of the decision log's entry up to its key, {"op":"counter","key":,
 * with its length. */
const char *vd_obs_json_head(vd_obs_kind_t kind, size_t *len);

/* Keeps an observation (its strings and bytes copied into the arena) when d->observe is set;
 * else does nothing. Returns 0 or VD_ENOMEM. */
int vd_decision_observe(vd_decision_t *d, const vd_observed_t *o);

int vd_decision_add_fault(vd_decision_t *d, const char *stage, const char *rule,
                          const char *message);

#endif
