/* A plugin stage's configuration: a C tree (made from the policy's Lua table by
 * policy/plugin_config.h) that the plugin reads through the host API, from any thread. */
#ifndef VD_PLUGIN_CONFIG_H
#define VD_PLUGIN_CONFIG_H

#include "verdict/plugin.h"

#include <stddef.h>
#include <stdint.h>

struct vd_plugin_config {
    vd_plugin_type_t type;
    int b;
    int64_t i;
    double n; /* set for INT too */
    char *s;
    size_t len;                     /* entries of ARRAY/MAP */
    struct vd_plugin_config *items; /* ARRAY items or MAP values */
    char **keys;                    /* MAP keys, sorted */
};

/* Sorts the keys of a MAP being built (before its values are filled), as lookups expect. */
void vd_plugin_config_sort_keys(vd_plugin_config_t *map);

void vd_plugin_config_free(vd_plugin_config_t *c);

/* Accessors of the host API (NULL-safe). */
vd_plugin_type_t vd_plugin_config_type(const vd_plugin_config_t *c);
const vd_plugin_config_t *vd_plugin_config_get(const vd_plugin_config_t *map, const char *key);
size_t vd_plugin_config_len(const vd_plugin_config_t *c);
const vd_plugin_config_t *vd_plugin_config_at(const vd_plugin_config_t *c, size_t i);
const char *vd_plugin_config_key_at(const vd_plugin_config_t *map, size_t i);
const char *vd_plugin_config_string(const vd_plugin_config_t *c);
int vd_plugin_config_number(const vd_plugin_config_t *c, double *out);
int vd_plugin_config_bool(const vd_plugin_config_t *c, int *out);
int vd_plugin_config_check_keys(const vd_plugin_config_t *map, const char *const *known, char *err,
                                size_t errlen);

#endif
