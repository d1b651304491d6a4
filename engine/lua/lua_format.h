/* Formatting rule details in C: the conversions details use (%d %i %s %.Nf %%) as
 * string.format writes them, without making Lua strings. Anything else is left to
 * string.format itself, so every detail reads exactly as string.format would make it. */
#ifndef VD_LUA_FORMAT_H
#define VD_LUA_FORMAT_H

#include <lua.h>
#include <stddef.h>

/* Formats fmt (flen bytes) with the values at first..last of L into buf (cap bytes, NUL
 * terminated). Returns the length, or -1 when string.format must do it (another conversion,
 * a flag or width, a value of another type, a missing argument, or no room). */
int vd_lua_format(lua_State *L, const char *fmt, size_t flen, int first, int last, char *buf,
                  size_t cap);

/* The number at idx as tostring writes it, into buf (cap bytes, NUL terminated), without making
 * a Lua string. Returns the length, or -1 when buf is too small. */
int vd_lua_number_text(lua_State *L, int idx, char *buf, size_t cap);

#endif
