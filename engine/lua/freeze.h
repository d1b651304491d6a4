/* Freezing a loaded policy: what it built while loading becomes read-only, so that nothing a
 * rule does during one request can be seen by a later request or by another stage.
 *
 * From the global table and the rule functions, every table reachable (through tables, their
 * metatables and the upvalues of Lua functions) is replaced everywhere by a read-only proxy
 * (readonly.h). The one thing a proxy cannot cover is a rule assigning a local of the policy
 * file (an upvalue); the functions' compiled code tells which upvalues can be assigned
 * (upvalue_writes.h), and after every rule call those few are checked and set back. */
#ifndef VD_LUA_FREEZE_H
#define VD_LUA_FREEZE_H

#include <lua.h>
#include <stddef.h>

/* Freezes what the global table and the registry references refs[0..nrefs) reach. Writes into
 * the global table's proxy raise on_global_write; the global table's metatable must be the
 * engine's (given on_global_write, its reads skip the __index function check). Returns 0, or
 * -1 with a message in err (out of memory). */
int vd_lua_freeze(lua_State *L, const int *refs, size_t nrefs, lua_CFunction on_global_write,
                  char *err, size_t errlen);

/* After a rule call: 0 when no file-level local changed; else sets every changed one back,
 * writes what the first was (with the file and line of the function holding it) into msg and
 * returns 1. */
int vd_lua_guard_check(lua_State *L, char *msg, size_t cap);

/* How many upvalues are checked after each rule call. */
size_t vd_lua_guarded_count(lua_State *L);

#endif
