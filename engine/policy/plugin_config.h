/* Turning the Lua table a policy gives a plugin stage into the C configuration tree the
 * plugin reads (plugin/config.h). */
#ifndef VD_POLICY_PLUGIN_CONFIG_H
#define VD_POLICY_PLUGIN_CONFIG_H

#include "plugin/config.h"

#include <lua.h>
#include <stddef.h>

/* Converts the table at idx, leaving out the string keys in skip (NULL-terminated). A table
 * must be a list (keys 1..n) or a map (string keys); values are booleans, numbers, strings
 * or such tables. Returns 0, or VD_EPOLICY with the offending key path in err. */
int vd_plugin_config_from_lua(lua_State *L, int idx, const char *const *skip,
                              vd_plugin_config_t **out, char *err, size_t errlen);

#endif
