/* verdict.ip, ip_prefix, cidrs: IP addresses and networks. */
#ifndef VD_LUA_IP_H
#define VD_LUA_IP_H

#include <lua.h>

#include <stddef.h>

/* True when the address s lies in one of the networks (the memory of a verdict.cidrs
 * userdata), as set:has(s). */
int vd_lua_cidrs_contains(const void *cidrs, const char *s, size_t len);

/* Adds the functions to the verdict table on top. */
void vd_lua_open_ip(lua_State *L);

#endif
