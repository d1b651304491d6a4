#include "string_set.h"

#include "base/error.h"

#include <stdlib.h>
#include <string.h>
#include <xxhash.h>

#define EMPTY UINT64_MAX

static int same(const vd_string_t *e, const char *s, size_t len) {
    return e->len == len && memcmp(e->s, s, len) == 0;
}

int vd_string_set_build(vd_string_set_t *set, const vd_string_t *strings, size_t n) {
    size_t cap = 8;
    while (cap < n + n / 2 + 1) /* load factor at most 2/3 */
        cap <<= 1;
    set->strings = strings;
    set->mask = cap - 1;
    if (!(set->slots = malloc(cap * sizeof *set->slots))) return VD_ENOMEM;
    memset(set->slots, 0xff, cap * sizeof *set->slots);
    for (size_t i = 0; i < n; i++) {
        uint64_t h = XXH3_64bits(strings[i].s, strings[i].len);
        uint64_t tag = h >> 32;
        for (size_t j = h & set->mask;; j = (j + 1) & set->mask) {
            uint64_t slot = set->slots[j];
            if (slot == EMPTY) {
                set->slots[j] = tag << 32 | i;
                break;
            }
            const vd_string_t *old = &strings[(uint32_t)slot];
            if (slot >> 32 == tag && same(old, strings[i].s, strings[i].len)) {
                if (strings[i].id > old->id) set->slots[j] = tag << 32 | i;
                break;
            }
        }
    }
    return 0;
}

uint32_t vd_string_set_find(const vd_string_set_t *set, const char *s, size_t len) {
    uint64_t h = XXH3_64bits(s, len);
    uint64_t tag = h >> 32;
    for (size_t j = h & set->mask;; j = (j + 1) & set->mask) {
        uint64_t slot = set->slots[j];
        if (slot == EMPTY) return VD_STRING_NONE;
        if (slot >> 32 == tag && same(&set->strings[(uint32_t)slot], s, len))
            return set->strings[(uint32_t)slot].id;
    }
}

size_t vd_string_set_bytes(const vd_string_set_t *set) {
    return (set->mask + 1) * sizeof *set->slots;
}

void vd_string_set_free(vd_string_set_t *set) {
    free(set->slots);
    set->slots = NULL;
}
