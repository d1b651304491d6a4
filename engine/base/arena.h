/* A bump allocator for one request: everything is freed at once when the reply is written. */
#ifndef VD_ARENA_H
#define VD_ARENA_H

#include <stddef.h>

typedef struct vd_arena_chunk vd_arena_chunk_t;

typedef struct vd_arena {
    vd_arena_chunk_t *head; /* newest chunk */
    size_t used;            /* bytes used in head */
    size_t cap;             /* capacity of head */
} vd_arena_t;

void vd_arena_init(vd_arena_t *a);

/* Returns size bytes aligned for any type, or NULL when out of memory. */
void *vd_arena_alloc(vd_arena_t *a, size_t size);

/* Copies len bytes and a terminating NUL into the arena. */
char *vd_arena_strndup(vd_arena_t *a, const char *s, size_t len);

/* Frees all but the first chunk so the arena can be reused for the next request. */
void vd_arena_reset(vd_arena_t *a);

void vd_arena_close(vd_arena_t *a);

#endif
