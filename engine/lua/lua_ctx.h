/* ctx: what a rule may do besides reading the event (features, tags, stop). */
#ifndef VD_LUA_CTX_H
#define VD_LUA_CTX_H

#include <lua.h>

/* Pushes the reusable ctx object handed to rules. */
void vd_lua_push_ctx(lua_State *L);

/* With explain, notes in the running rule's trace a lookup it made: value (vlen bytes) looked
 * up in `in` (a list's path, or a kind of set), and the entry that matched (NULL, or elen
 * bytes). Does nothing otherwise; a failure to note costs the explanation a line. */
void vd_lua_note_lookup(lua_State *L, const char *in, const char *value, size_t vlen, int hit,
                        const char *entry, size_t elen);

/* Creates the ctx object; expects the verdict table on top. */
void vd_lua_open_ctx(lua_State *L);

#endif
