/* UTF-8 for what the daemon writes: replies must carry valid UTF-8 whatever bytes a request
 * held, since strict decoders (Python's msgpack, by default) refuse the whole reply otherwise. */
#ifndef VD_BASE_UTF8_H
#define VD_BASE_UTF8_H

#include <stddef.h>

/* The length of the longest prefix of s[0..n) that is valid UTF-8 (no overlong forms, no
 * surrogates, nothing past U+10FFFF). */
size_t vd_utf8_valid_len(const char *s, size_t n);

/* The length of the valid character at s[0..n) (n >= 1), or 0 when there is none; then *seen
 * is the length of the maximal subpart there (at least 1), which a repair replaces with one
 * U+FFFD as the Unicode Standard recommends (section 3.9). */
size_t vd_utf8_char(const char *s, size_t n, size_t *seen);

/* Writes s[0..n) into out with what is not valid replaced by U+FFFD, one for each maximal
 * subpart (a byte that cannot begin a character, or the start of one cut short), as Python's
 * "replace" and Ruby's scrub do; returns the bytes written. With out NULL, only counts them. */
size_t vd_utf8_repair(const char *s, size_t n, char *out);

/* The largest length <= max at which s[0..n) can be cut without splitting a character. */
size_t vd_utf8_cut(const char *s, size_t n, size_t max);

#endif
