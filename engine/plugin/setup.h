/* What a plugin's create() may ask the host (host API setup_* functions): its configuration,
 * its stage, paths in the policy directory, and handles for the fields and features it reads. */
#ifndef VD_PLUGIN_SETUP_H
#define VD_PLUGIN_SETUP_H

#include "verdict/plugin.h"

#include <stddef.h>

struct vd_plugin_stage;

/* Lives on the stack of vd_plugin_stage_create for the duration of create(). */
struct vd_plugin_setup {
    struct vd_plugin_stage *ps;
    const char *stage;
    const char *policy_dir;
    const char *data_dir; /* --data-dir: the other place the configuration may name files in */
    char refused[512];    /* why setup_path refused a path, for the error of create() */
};

const vd_plugin_config_t *vd__setup_config(vd_plugin_setup_t *s);
const char *vd__setup_stage(vd_plugin_setup_t *s);

/* Joins a relative path to the policy directory and resolves it (links followed); refuses a
 * file outside the policy directory and the data directory, so that a policy cannot make a
 * plugin read (and quote in its errors) any other file. */
int vd__setup_path(vd_plugin_setup_t *s, const char *path, char *out, size_t cap);

/* Interns an event field path / a feature name; handles start at 1, 0 on failure. */
vd_plugin_field_t vd__setup_field(vd_plugin_setup_t *s, const char *path);
vd_plugin_feature_t vd__setup_feature(vd_plugin_setup_t *s, const char *name);

/* Records a key/value the stats method shows for the stage (model versions). */
void vd__setup_describe(vd_plugin_setup_t *s, const char *key, const char *value);

#endif
