/* A hash map from byte strings to 32-bit values: the report's names and the labels of
 * --labels, which may count millions. Open addressing with linear probing over a power-of-two
 * table of 16-byte slots; keys are copied (each after its length) into chunks that never
 * move, so a stored key stays valid (and can be handed out) until the map is freed. */
#ifndef VD_REPLAY_STRMAP_H
#define VD_REPLAY_STRMAP_H

#include <stddef.h>
#include <stdint.h>

typedef struct vd_strmap_slot {
    const char *key; /* NULL: an empty slot; stored keys end with a NUL, their length (a
                        uint32_t) is stored just before them */
    uint32_t tag;    /* the high half of the key's hash: most mismatches end here */
    uint32_t val;
} vd_strmap_slot_t;

typedef struct vd_strmap_chunk vd_strmap_chunk_t;

typedef struct vd_strmap {
    vd_strmap_slot_t *slots;
    size_t mask, count;
    vd_strmap_chunk_t *chunks; /* newest first */
    size_t chunk_used, chunk_cap;
} vd_strmap_t;

void vd_strmap_init(vd_strmap_t *m);
void vd_strmap_free(vd_strmap_t *m);

/* The value stored for key[0..len), or NULL when it is absent. The pointer stays valid until
 * the next vd_strmap_put. */
uint32_t *vd_strmap_find(const vd_strmap_t *m, const char *key, size_t len);

/* Finds key or inserts it with the value val. *valp (when not NULL) gets the stored value's
 * address (valid until the next put), *stored (when not NULL) the stored copy of the key.
 * Returns 1 when inserted, 0 when found, VD_ENOMEM, or VD_EINVAL for a key of 4 GiB or more. */
int vd_strmap_put(vd_strmap_t *m, const char *key, size_t len, uint32_t val, uint32_t **valp,
                  const char **stored);

/* Bytes held (table and keys), for figures. */
size_t vd_strmap_bytes(const vd_strmap_t *m);

#endif
