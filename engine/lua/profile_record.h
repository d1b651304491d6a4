/* A profile read as the decision log kept it (the Lua binding's observation: now, read_only,
 * half_life_s, asked_place, events, first_seen, last_seen, attrs {name: {value, new, share,
 * count, values, last_seen}}, place), read back for a replay. */
#ifndef VD_PROFILE_RECORD_H
#define VD_PROFILE_RECORD_H

#include "state/profile.h"

#include <stddef.h>
#include <stdint.h>

/* Fills r from the msgpack map packed[0..plen) when it answers a read of these n attributes
 * asked this way (the same names with the same values, the same options, every field there),
 * its times moved to now: 0; else -1. */
int vd_profile_from_record(const char *packed, size_t plen, const vd_profile_attr_t *attrs,
                           size_t n, const vd_profile_opts_t *o, int64_t now,
                           vd_profile_answer_t *r);

#endif
