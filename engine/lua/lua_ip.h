/* verdict.ip, ip_prefix, cidrs: IP addresses and networks. */
#ifndef VD_LUA_IP_H
#define VD_LUA_IP_H

#include <lua.h>

/* Adds the functions to the verdict table on top. */
void vd_lua_open_ip(lua_State *L);

#endif
