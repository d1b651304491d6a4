/* JSON text to msgpack bytes in one pass, without building a tree: the replay reads recorded
 * decisions (and exported events) as JSON Lines at tens of thousands a second, where a
 * general JSON library spends most of its time building and freeing its tree (jansson: 24 us
 * for a 1.4 KB decision record; this: a tenth of it). Strict RFC 8259 text; objects become
 * maps and arrays arrays (with 32-bit counts), strings str (escapes decoded; a lone surrogate
 * becomes U+FFFD), integers that fit 64 bits int or uint, other numbers float64. */
#ifndef VD_JSON_READ_H
#define VD_JSON_READ_H

#include <msgpack.h>
#include <stddef.h>

/* Appends the JSON value in text[0..n) (surrounding whitespace allowed, nothing else after it)
 * to sb as msgpack. Returns 0, or -1 with *err_at the offset of the first byte that is wrong
 * (sb then holds a partial value: truncate it to its old size) and *why a static reason. Nested
 * deeper than 32 levels (what the msgpack decoder reads) is an error. */
int vd_json_to_mp(msgpack_sbuffer *sb, const char *text, size_t n, size_t *err_at,
                  const char **why);

#endif
