/* Interned names of one kind (pipelines, actions, rules): small ids handed out in the order
 * names are first seen, up to a maximum past which new names share the id of "(other)". */
#ifndef VD_REPLAY_NAMES_H
#define VD_REPLAY_NAMES_H

#include "replay/report_data.h"

#include <stddef.h>
#include <stdint.h>

/* Ids start at first; at most max names (the last of them "(other)" once the rest are
 * taken). */
void vd__names_init(vd_names_t *n, uint32_t first, uint32_t max);
void vd__names_free(vd_names_t *n);

/* The id of name, interned if new. Returns 0 or VD_ENOMEM. */
int vd__names_intern(vd_names_t *n, const char *name, uint32_t *id);

/* The name of id, which must have been handed out. */
const char *vd__names_get(const vd_names_t *n, uint32_t id);

/* One past the largest id handed out. */
uint32_t vd__names_end(const vd_names_t *n);

#endif
