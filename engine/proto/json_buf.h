/* Building JSON text piece by piece into an msgpack_sbuffer: the decision log's lines are made
 * this way on the worker, straight from the decision, so that no record is packed only to be
 * parsed again. Strings are escaped and repaired as vd_mp_to_json does them (json_write.h), and
 * numbers written the same way, so a line reads the same whichever way it was made. A piece
 * that finds no memory is dropped and marks the buffer failed: the caller then drops the line.
 * The small pieces are inline: a line is a few hundred of them. */
#ifndef VD_JSON_BUF_H
#define VD_JSON_BUF_H

#include "json_write.h"

#include <msgpack.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

typedef struct vd_jbuf {
    msgpack_sbuffer *sb;
    int failed;
    int fixed; /* sb's bytes are not its own (room in a ring): it never grows, a piece that
                  does not fit fails j */
} vd_jbuf_t;

/* A builder over room[0..most) that is not its own (a ring's, the stack's): view is set up to
 * describe it, and a piece that does not fit fails the builder instead of growing it. */
static inline vd_jbuf_t vd_json_fixed(msgpack_sbuffer *view, char *room, size_t most) {
    *view = (msgpack_sbuffer){.size = 0, .data = room, .alloc = most};
    return (vd_jbuf_t){view, 0, 1};
}

/* Grows sb for n more bytes: where they go, or NULL (j failed). Use vd_json_room. */
char *vd_json__grow(vd_jbuf_t *j, size_t n);

/* Room for n more bytes: where they go, or NULL when there is no memory (j failed). */
static inline char *vd_json_room(vd_jbuf_t *j, size_t n) {
    msgpack_sbuffer *sb = j->sb;
    if (!j->failed && sb->alloc - sb->size >= n) return sb->data + sb->size;
    return vd_json__grow(j, n);
}

static inline void vd_json_end(vd_jbuf_t *j, const char *o) {
    j->sb->size = (size_t)(o - j->sb->data);
}

/* Text as it is: punctuation and keys known to need no escape. */
static inline void vd_json_raw(vd_jbuf_t *j, const char *s, size_t n) {
    char *o = vd_json_room(j, n);
    if (o) memcpy(o, s, n), vd_json_end(j, o + n);
}
#define VD_JSON_LIT(j, lit) vd_json_raw((j), "" lit, sizeof("" lit) - 1) /* literals only */

/* Pieces written straight into room reserved once (vd_json_room), without a check each: for the
 * small objects a line holds many of. Each returns the end of what it wrote. */
static inline char *vd_json_put_raw(char *o, const char *s, size_t n) {
    memcpy(o, s, n);
    return o + n;
}
/* Literals only. */
#define VD_JSON_PUT_LIT(o, lit) vd_json_put_raw((o), "" lit, sizeof("" lit) - 1)

/* A string, quoted and escaped; vd_json_cstr writes null for NULL. */
static inline void vd_json_str(vd_jbuf_t *j, const char *s, size_t n) {
    char *o = n < SIZE_MAX / 8 ? vd_json_room(j, 2 + 6 * n) : vd_json__grow(j, SIZE_MAX);
    if (o) vd_json_end(j, vd_json_put_str(o, s, n));
}

static inline void vd_json_cstr(vd_jbuf_t *j, const char *s) {
    if (s)
        vd_json_str(j, s, strlen(s));
    else
        vd_json_raw(j, "null", 4);
}

static inline void vd_json_int(vd_jbuf_t *j, int64_t v) {
    char *o = vd_json_room(j, 24);
    if (o) vd_json_end(j, vd_json_put_int(o, v));
}

static inline void vd_json_bool(vd_jbuf_t *j, int v) {
    if (v)
        vd_json_raw(j, "true", 4);
    else
        vd_json_raw(j, "false", 5);
}

static inline void vd_json_double(vd_jbuf_t *j, double v) {
    char *o = vd_json_room(j, 32);
    if (o) vd_json_end(j, vd_json_put_double(o, v));
}

/* The msgpack value at p[0..n) as JSON (vd_mp_to_json); a value it cannot read fails j. */
void vd_json_msgpack(vd_jbuf_t *j, const char *p, size_t n);

#endif
