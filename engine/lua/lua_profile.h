/* verdict.profile: how usual an event's values are for an entity, from its own history
 * (engine/state/profile.h), for rules. */
#ifndef VD_LUA_PROFILE_H
#define VD_LUA_PROFILE_H

#include <lua.h>

/* Adds verdict.profile to the verdict table on top. */
void vd_lua_open_profile(lua_State *L);

#endif
