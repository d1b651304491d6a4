/* A loaded policy: its pipelines, stages and rules, compiled into one sandboxed Lua state.
 * Each worker owns its own vd_policy_t built from the same source snapshot; it is used by one
 * thread at a time and reference-counted by that thread (requests in flight hold a ref). */
#ifndef VD_POLICY_H
#define VD_POLICY_H

#include "lua/state.h"
#include "schema.h"
#include "source.h"

#include <stddef.h>

struct vd_stat_node;
struct vd_rule_stat;
struct vd_plugin_stage;

typedef struct vd_rule {
    char *name, *description, *file;
    int line;
    double score;  /* fixed score, used when score_ref is LUA_NOREF */
    int score_ref; /* registry ref of a score function, or LUA_NOREF */
    int when_ref;  /* registry ref of the condition function (or verdict.when condition) */
    int native;    /* when is a verdict.when condition: decided in C, no Lua call */
    char **tags;
    size_t ntags;
    char *stop;   /* action that ends the pipeline when the rule fires, or NULL */
    char *detail; /* a string.format format for the detail, its arguments from when; or NULL */
} vd_rule_t;

typedef struct vd_threshold {
    char *name;
    double bound; /* the action applies from this total score upwards */
} vd_threshold_t;

typedef enum { VD_STAGE_RULES, VD_STAGE_PLUGIN } vd_stage_kind_t;

/* How the decision log's line starts one of a stage's rules' reasons, {"rule":"...","stage":
 * "...","score": made once at load; text is NULL when a name needs escaping (written the slow
 * way then). */
typedef struct vd_reason_head {
    char *text;
    size_t len;
} vd_reason_head_t;

typedef struct vd_stage {
    vd_stage_kind_t kind;
    char *name, *description, *file;
    int line;
    struct vd_plugin_stage *plugin; /* VD_STAGE_PLUGIN: the instance this worker's copy made */
    vd_rule_t **rules;
    size_t nrules;
    int shadow;      /* runs and is reported, but does not change the action */
    int as_features; /* a rule that fires also sets feature "rule.<name>" to its score */
    char *on_error;  /* NULL: fail open (skip the failing rule); else the action to stop with */
    int timeout_ms;  /* 0: none (rules) or the default (plugins); past it the stage is stopped */
    struct vd_stat_node *stats;       /* bound by the owning worker */
    struct vd_rule_stat **rule_stats; /* one per rule (NULL: not counted), bound likewise */
    vd_reason_head_t *reason_heads;   /* one per rule */
} vd_stage_t;

/* What the decision log keeps of a pipeline's decisions (its `log` section). */
typedef struct vd_pipeline_log {
    int off;          /* log = false: never logged */
    double sample;    /* the share of decisions logged; 1 by default */
    char *time_field; /* the event's own time, logged as event_time; default "time" */
    char **hash;      /* top-level event fields logged as a salted hash of their value */
    size_t nhash;
    char **drop; /* top-level event fields left out */
    size_t ndrop;
    char *salt; /* for hash; default "" */
} vd_pipeline_log_t;

typedef struct vd_pipeline {
    char *name, *description, *file;
    int line;
    vd_stage_t *stages;
    size_t nstages;
    vd_threshold_t *actions; /* ascending by bound */
    size_t nactions;
    char *default_action;
    const char **action_names; /* default then thresholds, NULL-terminated */
    int has_plugins;           /* some stage is a plugin: requests may suspend */
    vd_pipeline_log_t log;
    vd_schema_t fields; /* the event fields its rules need; n == 0: any event */
    struct vd_stat_node *stats;
} vd_pipeline_t;

typedef struct vd_policy {
    lua_State *L;
    vd_policy_src_t *src;
    vd_rule_t *rules;
    size_t nrules;
    vd_pipeline_t *pipelines;
    size_t npipelines;
    int refs;      /* touched only by the owning thread */
    void *plugins; /* the vd_plugin_registry_t plugin stages were loaded from, or NULL */
} vd_policy_t;

/* Loads every *.lua file of the snapshot (in path order) into a new sandboxed state, then
 * validates and compiles the declarations, creating plugin instances through plugins (a
 * vd_plugin_registry_t; NULL refuses plugin stages). On error returns VD_EPOLICY (or
 * VD_ENOMEM) and writes "file:line: message" into err. The result holds one reference. */
int vd_policy_load(vd_policy_src_t *src, const vd_lua_limits_t *limits, void *plugins,
                   vd_policy_t **out, char *err, size_t errlen);

/* Finds a pipeline by name, or returns NULL. */
const vd_pipeline_t *vd_policy_pipeline(const vd_policy_t *p, const char *name, size_t len);

const char *vd_policy_version(const vd_policy_t *p);

void vd_policy_ref(vd_policy_t *p);
void vd_policy_unref(vd_policy_t *p);

#endif
