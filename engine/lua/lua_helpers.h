/* verdict.lower, trim, email_domain, email_local, header, count, entropy. */
#ifndef VD_LUA_HELPERS_H
#define VD_LUA_HELPERS_H

#include <lua.h>

#include <stddef.h>

/* The domain of an email address as verdict.email_domain gives it (lower case), written into
 * out (cap bytes, NUL terminated); returns its length, 0 when s has none (or it is too long). */
size_t vd_email_domain(const char *s, size_t len, char *out, size_t cap);

/* Adds the functions to the verdict table on top. */
void vd_lua_open_helpers(lua_State *L);

#endif
