/* The state a case starts from (counters, distinct counts, labels), put into the store before
 * the case is decided. */
#ifndef VD_PTEST_SEED_H
#define VD_PTEST_SEED_H

#include "case.h"

struct vd_store;

/* Puts the state case c starts from into store, as of the case's time. A counter's seed is
 * added so that its minute, hour and day windows read what the case says. Returns 0 or
 * VD_ENOMEM. */
int vd_ptest_seed(struct vd_store *store, const vd_ptest_case_t *c);

#endif
