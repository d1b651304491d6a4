/* A growable array whose storage lives in an arena: the lists a decision builds. */
#ifndef VD_VEC_H
#define VD_VEC_H

#include "arena.h"

#include <stddef.h>
#include <stdint.h>

typedef struct vd_vec {
    void *items;
    uint32_t len, cap;
} vd_vec_t;

/* Appends a zeroed slot of size bytes and returns it, or NULL when out of memory. */
void *vd_vec_push(vd_vec_t *v, vd_arena_t *a, size_t size);

#define VD_VEC_AT(v, T, i) (((T *)(v).items)[i])

#endif
