#include "vec.h"

#include <string.h>

void *vd_vec_push(vd_vec_t *v, vd_arena_t *a, size_t size) {
    if (v->len == v->cap) {
        uint32_t cap = v->cap ? v->cap * 2 : 8;
        void *items = vd_arena_alloc(a, (size_t)cap * size);
        if (!items) return NULL;
        if (v->len) memcpy(items, v->items, (size_t)v->len * size);
        v->items = items;
        v->cap = cap;
    }
    void *slot = (char *)v->items + (size_t)v->len++ * size;
    memset(slot, 0, size);
    return slot;
}
