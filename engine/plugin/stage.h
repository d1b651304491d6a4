/* A plugin stage of a pipeline: the instance a plugin created for it and the field and
 * feature names it resolved. Calls (one per request) are in call.h. */
#ifndef VD_PLUGIN_STAGE_H
#define VD_PLUGIN_STAGE_H

#include "config.h"
#include "registry.h"

#include <stddef.h>

typedef struct vd_plugin_stage {
    vd_plugin_lib_t *lib; /* a reference held until the stage is freed */
    void *instance;
    char *stage, *pipeline; /* names, for crash reports (activity.h) */
    vd_plugin_config_t *config;
    char **fields; /* dotted paths; handle h is fields[h - 1] */
    size_t nfields;
    char **features; /* names; handle h is features[h - 1] */
    size_t nfeatures;
    int timeout_ms;                 /* deadline of one call; 0 = only the request's own deadline */
    struct vd_plugin_call *orphans; /* timed out, not yet completed: freed at destroy */
    struct vd_plugin_call *spare;   /* a finished call kept for the next (the owner's thread) */
    int closing;                    /* being freed: calls are not kept any more */
    char **info;                    /* setup_describe(): key, value, key, value, ... */
    size_t ninfo;                   /* pairs */
} vd_plugin_stage_t;

/* Creates the instance of stage stage_name of pipeline with the given configuration. Takes
 * over the configuration and the caller's reference to lib, even on failure (both go with the
 * stage). Files the configuration names must lie in policy_dir or data_dir. On failure returns
 * VD_EPOLICY with the plugin's message (or the refused path) in err. */
int vd_plugin_stage_create(vd_plugin_stage_t **out, vd_plugin_lib_t *lib,
                           vd_plugin_config_t *config, const char *stage_name, const char *pipeline,
                           const char *policy_dir, const char *data_dir, char *err, size_t errlen);

/* Destroys the instance and frees the stage, letting go of its plugin copy (the last stage of
 * a copy unloads it). The caller ensures no call is pending. */
void vd_plugin_stage_free(vd_plugin_stage_t *ps);

#endif
