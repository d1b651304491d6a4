/* An event checked against its pipeline's fields (policy/schema.h) before any rule runs: an
 * event without a field the rules rely on, or with one of another type, is refused with a
 * message a client can act on, rather than decided on what is missing. No allocation; a look
 * at each top-level key of the event. */
#ifndef VD_EXEC_EVENT_CHECK_H
#define VD_EXEC_EVENT_CHECK_H

#include "policy/policy.h"

#include <msgpack.h>
#include <stddef.h>

/* Checks event (a map with string keys, as vd_decide_check_event accepts) against pl's fields.
 * Returns 0, or VD_EINVAL with why naming the field, the type it must have and the type it
 * has (or that it is missing); a refusal is counted in pl's figures (invalid). */
int vd_event_check(const vd_pipeline_t *pl, const msgpack_object *event, char *why, size_t cap);

#endif
