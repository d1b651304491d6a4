/* JSON text straight from msgpack bytes, for the decision log: its writer thread turns every
 * record into a JSON line, so this is written for speed. The output is reserved once (no value
 * grows more than VD_JSON_GROWTH times its msgpack size) and then written without checks.
 * Strings keep valid UTF-8 (bad bytes become U+FFFD, one per maximal subpart), controls, '"',
 * '\\' and DEL are escaped; bin is written as a string; integers exactly; floats as the
 * shortest text that reads back the same (NaN and infinities, which JSON lacks, as null); ext
 * values as null; map keys that are not strings as the text of a number, true, false or null,
 * or "[]", "{}" or "ext" for a container or an ext value. */
#ifndef VD_JSON_WRITE_H
#define VD_JSON_WRITE_H

#include <msgpack.h>
#include <stddef.h>
#include <stdint.h>

#define VD_JSON_GROWTH 8

/* Appends the one msgpack value at p[0..n) to sb as JSON. Returns the bytes of msgpack it
 * read, or 0 when the value is cut short, malformed, nested deeper than 64 levels or memory ran
 * out (sb is then as it was). */
size_t vd_mp_to_json(msgpack_sbuffer *sb, const char *p, size_t n);

/* The writers it uses, for JSON made piece by piece (json_buf.h). Each writes at o, which has
 * the room said, and returns the end of what it wrote. */

/* s[0..n), quoted and escaped (room: 2 + 6 * n bytes). */
char *vd_json_put_str(char *o, const char *s, size_t n);
/* v (room: 24 bytes). */
char *vd_json_put_int(char *o, int64_t v);
/* The shortest text that reads back as v (room: 32 bytes): whole numbers keep ".0", NaN and
 * infinities are null. */
char *vd_json_put_double(char *o, double v);

#endif
