/* Writing msgpack objects as JSON text, fast and without building a tree: decision-log records
 * are turned into JSON Lines on the log's writer thread. Strings that are not valid UTF-8 get
 * U+FFFD for the bad bytes; map keys that are not strings are written as their JSON text in a
 * string; binary values as strings; NaN and infinities (which JSON lacks) as null. */
#ifndef VD_JSON_WRITE_H
#define VD_JSON_WRITE_H

#include <msgpack.h>
#include <stddef.h>

/* Appends o as JSON to sb. Returns 0, or -1 when out of memory (sb then holds a partial text). */
int vd_json_write(msgpack_sbuffer *sb, const msgpack_object *o);

/* Appends s[0..n) as a JSON string (quoted and escaped). */
int vd_json_write_str(msgpack_sbuffer *sb, const char *s, size_t n);

/* Appends d as the shortest JSON number that reads back as d (null when not finite). */
int vd_json_write_double(msgpack_sbuffer *sb, double d);

#endif
