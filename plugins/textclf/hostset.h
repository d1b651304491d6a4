/* A set of distinct host names, for the msg_hosts statistic: hashed, so that counting the
 * distinct hosts of a message full of URLs stays linear in its size. */
#ifndef TEXTCLF_HOSTSET_H
#define TEXTCLF_HOSTSET_H

#include "buf.h"

#include <stddef.h>

typedef struct tc_hostset {
    tc_buf_t names; /* the distinct names, each followed by a NUL */
    size_t *slots;  /* offset + 1 into names; 0 is an empty slot */
    size_t nslots, count;
    int oom;
} tc_hostset_t;

/* Adds the NUL-terminated name of len bytes unless it is there already; on allocation
 * failure sets set->oom, and count is then a lower bound. */
void tc_hostset_add(tc_hostset_t *set, const char *name, size_t len);

void tc_hostset_free(tc_hostset_t *set);

#endif
