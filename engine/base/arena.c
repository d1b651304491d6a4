#include "arena.h"

#include <stdalign.h>
#include <stdlib.h>
#include <string.h>

#define FIRST_CHUNK 4096

struct vd_arena_chunk {
    vd_arena_chunk_t *next;
    size_t cap;
    alignas(max_align_t) unsigned char data[];
};

void vd_arena_init(vd_arena_t *a) {
    a->head = NULL;
    a->used = 0;
    a->cap = 0;
}

static int grow(vd_arena_t *a, size_t need) {
    size_t cap = a->cap ? a->cap * 2 : FIRST_CHUNK;
    while (cap < need)
        cap *= 2;
    vd_arena_chunk_t *c = malloc(sizeof *c + cap);
    if (!c) return -1;
    c->next = a->head;
    c->cap = cap;
    a->head = c;
    a->cap = cap;
    a->used = 0;
    return 0;
}

void *vd_arena_alloc(vd_arena_t *a, size_t size) {
    const size_t align = alignof(max_align_t);
    size = (size + align - 1) & ~(align - 1);
    if (size == 0) size = align;
    if (!a->head || a->cap - a->used < size) {
        if (grow(a, size) != 0) return NULL;
    }
    void *p = a->head->data + a->used;
    a->used += size;
    return p;
}

char *vd_arena_strndup(vd_arena_t *a, const char *s, size_t len) {
    char *p = vd_arena_alloc(a, len + 1);
    if (!p) return NULL;
    memcpy(p, s, len);
    p[len] = '\0';
    return p;
}

void vd_arena_reset(vd_arena_t *a) {
    if (!a->head) return;
    /* Keep the newest (largest) chunk: the next request likely needs as much. */
    vd_arena_chunk_t *keep = a->head, *c = keep->next;
    while (c) {
        vd_arena_chunk_t *next = c->next;
        free(c);
        c = next;
    }
    keep->next = NULL;
    a->cap = keep->cap;
    a->used = 0;
}

void vd_arena_close(vd_arena_t *a) {
    vd_arena_reset(a);
    free(a->head);
    vd_arena_init(a);
}
