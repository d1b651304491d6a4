/* verdict.anomaly: how unusual a value is for its own series (engine/state/anomaly_model.h),
 * for rules. */
#ifndef VD_LUA_ANOMALY_H
#define VD_LUA_ANOMALY_H

#include <lua.h>

/* Adds verdict.anomaly to the verdict table on top. */
void vd_lua_open_anomaly(lua_State *L);

#endif
