/* verdict.campaign: near-duplicate texts and lockstep groups for rules. */
#ifndef VD_LUA_CAMPAIGN_H
#define VD_LUA_CAMPAIGN_H

#include <lua.h>

/* Adds verdict.campaign and verdict.shape to the verdict table on top. */
void vd_lua_open_campaign(lua_State *L);

#endif
