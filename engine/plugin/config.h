/* A plugin stage's configuration: the Lua table of the policy turned into a C tree that the
 * plugin reads through the host API (and may keep reading from any thread). */
#ifndef VD_PLUGIN_CONFIG_H
#define VD_PLUGIN_CONFIG_H

#include "verdict/plugin.h"

#include <lua.h>
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

/* Converts the table at idx, leaving out the string keys in skip (NULL-terminated). A table
 * must be a list (keys 1..n) or a map (string keys); values are booleans, numbers, strings
 * or such tables. Returns 0, or VD_EPOLICY with the offending key path in err. */
int vd_plugin_config_from_lua(lua_State *L, int idx, const char *const *skip,
                              vd_plugin_config_t **out, char *err, size_t errlen);

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
