/* The params of the methods that read and change state by key (state_get, state_set,
 * state_reset) and of list_check (docs/protocol.md). */
#ifndef VD_ADMIN_PARAMS_H
#define VD_ADMIN_PARAMS_H

#include <msgpack.h>
#include <stddef.h>
#include <stdint.h>

/* What a key names, as rules make them: verdict.counter, verdict.distinct, verdict.label; and
 * a campaign, by the kind and id rules see ("text:<16 hex digits>", "fields:..."). */
typedef enum {
    VD_KEY_COUNTER,
    VD_KEY_DISTINCT,
    VD_KEY_LABEL,
    VD_KEY_CAMPAIGN,
    VD_KEY_KINDS
} vd_key_kind_t;

/* Their names in params and replies: "counter", "distinct", "label", "campaign". */
const char *vd_key_kind_name(vd_key_kind_t kind);

typedef enum { VD_STATE_GET, VD_STATE_SET, VD_STATE_RESET } vd_state_method_t;

typedef struct vd_state_params {
    vd_key_kind_t kind;
    const char *key; /* not NUL-terminated; borrowed from params */
    size_t key_len;
    uint32_t value; /* state_set: a counter's count, a distinct count's number of values, a
                       label's seconds */
    int64_t ttl;    /* state_set of a distinct count: seconds it lives after; default a day */
} vd_state_params_t;

/* Reads the params of method m: [kind, key] (get, reset), [kind, key, value] or
 * [kind, key, value, options] (set). Returns NULL, or a static complaint for a bad_request. */
const char *vd_state_params_read(const msgpack_object *params, vd_state_method_t m,
                                 vd_state_params_t *out);

typedef struct vd_list_check_params {
    const char *path; /* the list file as the policy names it; not NUL-terminated */
    size_t path_len;
    const char *value; /* what to look up */
    size_t value_len;
    int kind; /* option kind: "ip", "domain" or "exact" as 0, 1, 2; -1: any */
} vd_list_check_params_t;

/* Reads [path, value] or [path, value, options]. Returns NULL or a static complaint. */
const char *vd_list_check_params_read(const msgpack_object *params, vd_list_check_params_t *out);

#endif
