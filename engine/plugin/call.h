/* A plugin call: one request's visit to a plugin stage. The plugin reads the event and earlier
 * features through it and buffers its outputs there; the thread that runs the request applies
 * them. A call may complete later, from any thread, through its host. */
#ifndef VD_PLUGIN_CALL_H
#define VD_PLUGIN_CALL_H

#include "decision/decision.h"
#include "proto/json_buf.h"
#include "stage.h"
#include "state/state_env.h"

#include <msgpack.h>
#include <stdatomic.h>
#include <stdint.h>

/* What calls need from whoever runs requests (the executor), given at call creation and
 * outliving every call. */
typedef struct vd_call_host {
    /* Any thread: the plugin completed call; queue it for the owner's thread. */
    void (*completed)(vd_plugin_call_t *call, void *ud);
    /* The owner's thread: a call that outlived its request was freed; its hold on owner ends. */
    void (*release)(void *owner);
    void *ud;
    const vd_state_env_t *state; /* where the state functions of the host API go */
} vd_call_host_t;

/* What a plugin emitted during a call, applied to the decision by the worker thread. */
typedef enum { VD_OUT_SCORE, VD_OUT_TAG, VD_OUT_FEATURE } vd_plugin_out_kind_t;

typedef struct vd_plugin_out {
    vd_plugin_out_kind_t kind;
    double score;
    char *rule, *detail, *tag; /* owned copies */
    uint32_t feature;
    vd_value_t value; /* strings: an owned copy */
} vd_plugin_out_t;

struct vd_plugin_call {
    vd_plugin_stage_t *ps;
    const char *stage_name;
    const msgpack_object *event;
    const vd_decision_t *d; /* read-only for the plugin: features of earlier stages */
    int shadow;
    const msgpack_object **field_cache; /* resolved lazily, one slot per field handle */
    unsigned char *field_done;
    vd_plugin_out_t *outs;
    size_t nouts, capouts;
    char *error;
    int64_t started_ns, deadline_ns;
    int64_t now_s; /* the decision's wall-clock time, for state */
    /* Campaigns the plugin joined or found (host API 1.3), noted in the decision at merge. */
    vd_campaign_ref_t campaigns[VD_DECISION_CAMPAIGNS];
    int ncampaigns;
    /* Campaign answers still to come from Redis (owner thread): the call's memory stays until
     * the last one, even when the plugin completed without waiting for them (free_later). */
    int host_waits, free_later;
    /* Why a campaign lookup of the plugin's fell back (the first), noted in the decision's
     * faults at merge as a rule's is: "" when none did. */
    char fell_back[200];
    /* Asynchronous bookkeeping. */
    const vd_call_host_t *host; /* who runs the call; NULL: it cannot complete later */
    void *owner;                /* the request whose event the call reads, held until it ends */
    int status;                 /* given to complete() */
    atomic_int state;           /* enum vd_call_state */
    int timed_out;              /* the request went on without it: an orphan of the stage */
    struct vd_plugin_call *next, *prev; /* the worker's deadline list, then the orphans */
    struct vd_plugin_call *done_next;   /* the worker's completion queue */
};

enum vd_call_state { VD_CALL_PENDING, VD_CALL_COMPLETED, VD_CALL_ABANDONED };

/* A call for one request. deadline_ns is monotonic, 0 for none. NULL when out of memory. */
vd_plugin_call_t *vd_plugin_call_new(vd_plugin_stage_t *ps, const char *stage_name,
                                     const msgpack_object *event, const vd_decision_t *d,
                                     int shadow, int64_t deadline_ns);

/* Runs the plugin's score() for the call (its stage is call->ps), marked in the thread's
 * activity record so that a crash inside names the plugin, stage and pipeline. Returns what
 * score() returned: VD_PLUGIN_OK, VD_PLUGIN_PENDING or VD_PLUGIN_ERROR. */
int vd_plugin_call_score(vd_plugin_call_t *call);

/* Applies the call's outputs to the decision (the worker thread). Returns 0 or VD_ENOMEM. */
int vd_plugin_call_merge(const vd_plugin_call_t *call, vd_decision_t *d);

/* Packs what the call emitted into sb as a msgpack array (the decision log's record of a
 * plugin stage): {"score", "rule"[, "detail"]}, {"tag"} and {"feature", "value"} maps. */
void vd_plugin_call_pack(const vd_plugin_call_t *call, msgpack_sbuffer *sb);

/* The same as JSON text, for a decision only the log reads (vd_observe_as_json). */
void vd_plugin_call_json(const vd_plugin_call_t *call, vd_jbuf_t *j);

/* Records why the call failed (copied). */
void vd_plugin_call_set_error(vd_plugin_call_t *call, const char *message);

/* Ends a call; its memory is kept as the stage's spare for the next call (owner thread). */
void vd_plugin_call_free(vd_plugin_call_t *call);

/* A host answer the call waited for came and was delivered (host_waits was counted up for it):
 * frees the call when its end came first and this was the last answer. */
void vd_plugin_call_answer_came(vd_plugin_call_t *call);

/* Frees the stage's spare call (before the stage goes). */
void vd_plugin_call_drop_spare(vd_plugin_stage_t *ps);

/* The host API's complete(): any thread. Marks the call completed (once; a call the host
 * already gave up on is ignored) and hands it to its host. */
void vd__plugin_complete(vd_plugin_call_t *call, int status);

#endif
