/* verdict.re: PCRE2 regular expressions with a match limit. */
#ifndef VD_LUA_RE_H
#define VD_LUA_RE_H

#include <lua.h>

#include <stddef.h>

/* Matches the expression (the memory of a verdict.re userdata) against s without raising:
 * 1 with its first capture (or the whole match when it has none; NULL when that capture did
 * not take part) in *m, *mlen, as re:match returns first; 0 when it does not match; -1 with a
 * message in err (the match limit). */
int vd_lua_re_find(lua_State *L, const void *re, const char *s, size_t len, const char **m,
                   size_t *mlen, char *err, size_t errlen);

/* Adds the functions to the verdict table on top. */
void vd_lua_open_re(lua_State *L);

#endif
