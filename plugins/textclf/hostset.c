#include "hostset.h"

#include <xxhash.h>

static size_t slot_of(const tc_hostset_t *set, const char *name, size_t len) {
    size_t mask = set->nslots - 1, i = (size_t)XXH3_64bits(name, len) & mask;
    while (set->slots[i] && strcmp((const char *)set->names.p + set->slots[i] - 1, name) != 0)
        i = (i + 1) & mask;
    return i;
}

/* Doubles the table (a power of two), keeping it at most half full. */
static int grow(tc_hostset_t *set) {
    size_t nslots = set->nslots ? set->nslots * 2 : 64;
    size_t *old = set->slots, nold = set->nslots;
    if (!(set->slots = calloc(nslots, sizeof *set->slots))) {
        set->slots = old;
        return -1;
    }
    set->nslots = nslots;
    for (size_t k = 0; k < nold; k++) {
        if (!old[k]) continue;
        const char *name = (const char *)set->names.p + old[k] - 1;
        set->slots[slot_of(set, name, strlen(name))] = old[k];
    }
    free(old);
    return 0;
}

void tc_hostset_add(tc_hostset_t *set, const char *name, size_t len) {
    if (set->oom) return;
    if ((set->count + 1) * 2 > set->nslots && grow(set) != 0) {
        set->oom = 1;
        return;
    }
    size_t i = slot_of(set, name, len);
    if (set->slots[i]) return;
    size_t at = set->names.len;
    tc_put(&set->names, name, len + 1);
    if (set->names.oom) {
        set->oom = 1;
        return;
    }
    set->slots[i] = at + 1;
    set->count++;
}

void tc_hostset_free(tc_hostset_t *set) {
    tc_free(&set->names);
    free(set->slots);
    memset(set, 0, sizeof *set);
}
