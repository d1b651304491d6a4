/* The host API table: everything a plugin may call (sdk/include/verdict/plugin.h). */
#ifndef VD_HOST_API_H
#define VD_HOST_API_H

#include "verdict/plugin.h"

/* The table handed to plugins (one, static, immutable). */
const vd_host_api_t *vd_plugin_host_api(void);

#endif
