/* Converting between JSON (jansson) and msgpack for the verdict command. */
#ifndef VD_JSON_MSGPACK_H
#define VD_JSON_MSGPACK_H

#include <jansson.h>
#include <msgpack.h>

/* Packs a JSON value as msgpack (integers stay integers, reals become float64). */
void vd_json_pack(msgpack_packer *pk, const json_t *j);

/* Builds a new JSON value from a msgpack object; bytes that are not UTF-8 become U+FFFD, and
 * floats JSON cannot hold (NaN, infinities) null. Returns NULL when out of memory. */
json_t *vd_msgpack_to_json(const msgpack_object *o);

#endif
