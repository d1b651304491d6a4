/* A pipeline's event schema: `fields = { ip = "ip", email = "string", age = "number?" }`, the
 * top-level event fields its rules rely on and their types. Compiled once when the policy
 * loads; an event that misses a required field or holds one of the wrong type is refused
 * before any rule runs (exec/event_check.h) instead of being decided on what is missing. */
#ifndef VD_POLICY_SCHEMA_H
#define VD_POLICY_SCHEMA_H

#include <lua.h>
#include <stddef.h>

/* X(ENUM, "name in a policy", "what it is, in messages") */
#define VD_FIELD_TYPES(X)                                                                          \
    X(ANY, "any", "any value but nil")                                                             \
    X(STRING, "string", "a string")                                                                \
    X(NUMBER, "number", "a number")                                                                \
    X(INTEGER, "integer", "an integer")                                                            \
    X(BOOLEAN, "boolean", "a boolean")                                                             \
    X(IP, "ip", "an IP address")                                                                   \
    X(MAP, "map", "a map")                                                                         \
    X(ARRAY, "array", "an array")                                                                  \
    X(TABLE, "table", "a map or an array")

typedef enum {
#define VD_FIELD_ENUM(e, name, what) VD_FIELD_##e,
    VD_FIELD_TYPES(VD_FIELD_ENUM)
#undef VD_FIELD_ENUM
        VD_FIELD__COUNT
} vd_field_type_t;

/* At most this many fields: an event is checked with one bit per field. */
#define VD_SCHEMA_MAX_FIELDS 64

typedef struct vd_schema_field {
    char *name;
    size_t len;
    vd_field_type_t type;
    int optional; /* "type?": may be missing (or nil); when given, must have the type */
} vd_schema_field_t;

typedef struct vd_schema {
    vd_schema_field_t *fields; /* sorted by name (bytes, then length) */
    size_t n;                  /* 0: no schema, every event passes */
} vd_schema_t;

/* Compiles the fields table at idx of L into out. Returns 0, VD_ENOMEM, or VD_EPOLICY with the
 * problem in err and the offending field's name in *field (borrowed from the table; NULL when
 * the problem is the table's as a whole). Free out with vd_schema_free in every case. */
int vd_schema_compile(lua_State *L, int idx, vd_schema_t *out, const char **field, char *err,
                      size_t errlen);

void vd_schema_free(vd_schema_t *s);

/* The field of s called name (len bytes), or NULL. */
const vd_schema_field_t *vd_schema_find(const vd_schema_t *s, const char *name, size_t len);

/* "string", "ip", ...: type t as a policy writes it. */
const char *vd_field_type_name(vd_field_type_t t);

/* "a string", "an IP address", ...: what a value of type t is, for messages. */
const char *vd_field_type_what(vd_field_type_t t);

#endif
