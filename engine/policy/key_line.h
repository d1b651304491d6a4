/* Where a key of a declaration is written. Lua keeps no line for the keys of a table
 * constructor, so an error about `score` or `on_error` would point at the line where the rule
 * or stage starts; reading the declaration's source text finds the key's own line instead. */
#ifndef VD_POLICY_KEY_LINE_H
#define VD_POLICY_KEY_LINE_H

#include "source.h"

#include <stddef.h>

/* A declaration, as its record has it: kind "name" { ... } starting at file:line. */
typedef struct vd_decl_at {
    const char *kind; /* "rule", "pipeline", "stage" or "plugin" */
    const char *name;
    const char *file; /* the chunk's short name: "<policy dir>/<path>", or "...<its tail>" */
    int line;
} vd_decl_at_t;

/* The line of keys[nkeys - 1] in the declaration's table, reached through keys[0..nkeys - 1]
 * (keys of nested tables: {"log", "sample"}), or with item given, the line of the array entry
 * "item" in the table those keys lead to (nkeys 0: the declaration's own table). When the text
 * does not say (a declaration built by code, a key given by a variable), the line of the
 * deepest key found, else the declaration's own line. */
int vd_policy_key_line(const vd_policy_src_t *src, const vd_decl_at_t *decl,
                       const char *const *keys, size_t nkeys, const char *item);

#endif
