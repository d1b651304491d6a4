/* Pieces of a message to hashed token features: the set of sorted, distinct hash buckets a
 * textclf model reads (docs/textclf-features.md; mirrored by verdict_train/features.py). */
#ifndef TEXTCLF_FEATURES_H
#define TEXTCLF_FEATURES_H

#include "buf.h"
#include "message.h"

#include <stddef.h>
#include <stdint.h>

/* The visible text of an HTML body (tags, comments, script/style dropped, entities decoded). */
void tc_strip_html(const unsigned char *s, size_t n, tc_buf_t *out);

/* Appends the hosts of the http(s) URLs in s (section 3), each followed by a NUL. */
void tc_url_hosts(const unsigned char *s, size_t n, tc_buf_t *out);

/* The sorted distinct buckets of parsed pieces; *out is malloc'ed. Returns 0 or -1. */
int tc_pieces_buckets(const tc_pieces_t *pc, unsigned bits, uint64_t seed, uint32_t **out,
                      size_t *count);

/* The sorted distinct buckets (hash & (2^bits - 1), XXH3-64 with seed) of a raw message.
 * *out is malloc'ed. Returns 0, or -1 when out of memory. */
int tc_message_buckets(const unsigned char *raw, size_t len, unsigned bits, uint64_t seed,
                       uint32_t **out, size_t *count);

#endif
