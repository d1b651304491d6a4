#include "strmap.h"

#include "base/error.h"

#include <stdlib.h>
#include <string.h>
#include <xxhash.h>

/* Keys go into chunks of this size (a longer key gets a chunk of its own): no realloc moves
 * them and no doubling leaves half of a huge block unused. */
#define CHUNK_BYTES (1u << 20)
#define FIRST_SLOTS 16

struct vd_strmap_chunk {
    vd_strmap_chunk_t *next;
    size_t size;
    char data[];
};

void vd_strmap_init(vd_strmap_t *m) {
    memset(m, 0, sizeof *m);
}

void vd_strmap_free(vd_strmap_t *m) {
    free(m->slots);
    for (vd_strmap_chunk_t *c = m->chunks, *next; c; c = next) {
        next = c->next;
        free(c);
    }
    memset(m, 0, sizeof *m);
}

static uint32_t stored_len(const char *key) {
    uint32_t len;
    memcpy(&len, key - sizeof len, sizeof len);
    return len;
}

static const vd_strmap_slot_t *lookup(const vd_strmap_t *m, const char *key, size_t len,
                                      uint64_t h) {
    uint32_t tag = (uint32_t)(h >> 32);
    for (size_t i = h & m->mask;; i = (i + 1) & m->mask) {
        const vd_strmap_slot_t *s = &m->slots[i];
        if (!s->key) return s;
        if (s->tag == tag && stored_len(s->key) == len && memcmp(s->key, key, len) == 0) return s;
    }
}

uint32_t *vd_strmap_find(const vd_strmap_t *m, const char *key, size_t len) {
    if (!m->slots) return NULL;
    vd_strmap_slot_t *s = (vd_strmap_slot_t *)lookup(m, key, len, XXH3_64bits(key, len));
    return s->key ? &s->val : NULL;
}

static int grow_table(vd_strmap_t *m) {
    size_t cap = m->slots ? (m->mask + 1) * 2 : FIRST_SLOTS;
    vd_strmap_slot_t *slots = calloc(cap, sizeof *slots);
    if (!slots) return VD_ENOMEM;
    for (size_t i = 0; m->slots && i <= m->mask; i++) {
        const vd_strmap_slot_t *s = &m->slots[i];
        if (!s->key) continue;
        size_t j = XXH3_64bits(s->key, stored_len(s->key)) & (cap - 1);
        while (slots[j].key)
            j = (j + 1) & (cap - 1);
        slots[j] = *s;
    }
    free(m->slots);
    m->slots = slots;
    m->mask = cap - 1;
    return 0;
}

static const char *copy_key(vd_strmap_t *m, const char *key, size_t len) {
    uint32_t len32 = (uint32_t)len;
    size_t need = sizeof len32 + len + 1;
    if (!m->chunks || m->chunk_cap - m->chunk_used < need) {
        size_t size = need > CHUNK_BYTES ? need : CHUNK_BYTES;
        vd_strmap_chunk_t *c = malloc(sizeof *c + size);
        if (!c) return NULL;
        c->next = m->chunks;
        c->size = size;
        m->chunks = c;
        m->chunk_used = 0;
        m->chunk_cap = size;
    }
    char *p = m->chunks->data + m->chunk_used + sizeof len32;
    memcpy(p - sizeof len32, &len32, sizeof len32);
    if (len) memcpy(p, key, len);
    p[len] = '\0';
    m->chunk_used += need;
    return p;
}

int vd_strmap_put(vd_strmap_t *m, const char *key, size_t len, uint32_t val, uint32_t **valp,
                  const char **stored) {
    if (len >= UINT32_MAX) return VD_EINVAL;
    /* Grown at 70% full, so probes stay short. */
    if (!m->slots || (m->count + 1) * 10 > (m->mask + 1) * 7) {
        if (grow_table(m) != 0) return VD_ENOMEM;
    }
    uint64_t h = XXH3_64bits(key, len);
    vd_strmap_slot_t *s = (vd_strmap_slot_t *)lookup(m, key, len, h);
    int inserted = 0;
    if (!s->key) {
        const char *copy = copy_key(m, key, len);
        if (!copy) return VD_ENOMEM;
        *s = (vd_strmap_slot_t){.key = copy, .tag = (uint32_t)(h >> 32), .val = val};
        m->count++;
        inserted = 1;
    }
    if (valp) *valp = &s->val;
    if (stored) *stored = s->key;
    return inserted;
}

size_t vd_strmap_bytes(const vd_strmap_t *m) {
    size_t n = m->slots ? (m->mask + 1) * sizeof *m->slots : 0;
    for (const vd_strmap_chunk_t *c = m->chunks; c; c = c->next)
        n += sizeof *c + c->size;
    return n;
}
