/* A plugin stage of a pipeline: the instance a plugin created for it, the field and feature
 * names it resolved, and the calls (one per request) through which it scores. */
#ifndef VD_PLUGIN_STAGE_H
#define VD_PLUGIN_STAGE_H

#include "../core/decision.h"
#include "config.h"
#include "registry.h"

#include <msgpack.h>
#include <stdatomic.h>
#include <stdint.h>

struct vd_request;
struct vd_worker;

typedef struct vd_plugin_stage {
    vd_plugin_lib_t *lib;
    void *instance;
    vd_plugin_config_t *config;
    char **fields; /* dotted paths; handle h is fields[h - 1] */
    size_t nfields;
    char **features; /* names; handle h is features[h - 1] */
    size_t nfeatures;
    int timeout_ms;                 /* deadline of one call; 0 = only the request's own deadline */
    struct vd_plugin_call *orphans; /* timed out, not yet completed: freed at destroy */
    char **info;                    /* setup_describe(): key, value, key, value, ... */
    size_t ninfo;                   /* pairs */
} vd_plugin_stage_t;

/* Creates the stage's instance with the given configuration (taken over, freed with the
 * stage). On failure returns VD_EPOLICY with the plugin's message in err. */
int vd_plugin_stage_create(vd_plugin_stage_t **out, vd_plugin_lib_t *lib,
                           vd_plugin_config_t *config, const char *stage_name,
                           const char *policy_dir, char *err, size_t errlen);

/* Destroys the instance and frees the stage. The caller ensures no call is pending. */
void vd_plugin_stage_free(vd_plugin_stage_t *ps);

/* What a plugin emitted during a call, applied to the decision by the worker thread. */
typedef enum { VD_OUT_SCORE, VD_OUT_TAG, VD_OUT_FEATURE } vd_plugin_out_kind_t;

typedef struct {
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
    /* Asynchronous bookkeeping. */
    struct vd_request *request;         /* whose event the call reads; NULL outside the daemon */
    struct vd_worker *worker;           /* where complete() queues the call */
    int status;                         /* given to complete() */
    atomic_int state;                   /* enum vd_call_state */
    int timed_out;                      /* the request went on without it: an orphan of the stage */
    struct vd_plugin_call *next, *prev; /* the worker's deadline list, then the orphans */
    struct vd_plugin_call *done_next;   /* the worker's completion queue */
};

enum vd_call_state { VD_CALL_PENDING, VD_CALL_COMPLETED, VD_CALL_ABANDONED };

/* Gives back the request memory a call held (core/request.c). */
void vd__request_release(struct vd_request *req);

/* A call for one request. deadline_ns is monotonic, 0 for none. NULL when out of memory. */
vd_plugin_call_t *vd_plugin_call_new(vd_plugin_stage_t *ps, const char *stage_name,
                                     const msgpack_object *event, const vd_decision_t *d,
                                     int shadow, int64_t deadline_ns);

/* Applies the call's outputs to the decision (the worker thread). Returns 0 or VD_ENOMEM. */
int vd_plugin_call_merge(const vd_plugin_call_t *call, vd_decision_t *d);

/* Records why the call failed (copied). */
void vd_plugin_call_set_error(vd_plugin_call_t *call, const char *message);

void vd_plugin_call_free(vd_plugin_call_t *call);

#endif
