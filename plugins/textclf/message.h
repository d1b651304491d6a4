/* Raw RFC 5322 bytes to the pieces a spam model reads: decoded header values, text bodies
 * (plain and HTML, transfer-decoded, Latin-1 family charsets turned into UTF-8) and the types
 * of other parts. Specified in docs/textclf-features.md; mirrored by
 * sdk/python/verdict_train/message.py, which the parity tests compare with. */
#ifndef TEXTCLF_MESSAGE_H
#define TEXTCLF_MESSAGE_H

#include "buf.h"

#include <stddef.h>

typedef struct tc_header {
    char *name; /* lower case */
    tc_buf_t value;
} tc_header_t;

typedef struct tc_text {
    int html;
    tc_buf_t text;
} tc_text_t;

typedef struct tc_pieces {
    tc_header_t *headers; /* decoded values */
    size_t nheaders;
    tc_text_t *texts;
    size_t ntexts;
    char **types; /* content types of the other leaf parts */
    size_t ntypes;
    int parts;
    int oom;
} tc_pieces_t;

/* The bytes of a message the plugin reads by default; the rest is ignored, so that one message
 * costs a bounded time and memory (the plugin's max_bytes; verdict_train's MAX_BYTES). */
#define TC_MAX_BYTES_DEFAULT ((size_t)1 << 20)

/* Parses len bytes of a raw message (the caller applies the cap). Returns 0, or -1 when out of
 * memory. */
int tc_parse(const unsigned char *raw, size_t len, tc_pieces_t *out);

void tc_pieces_free(tc_pieces_t *p);

#endif
