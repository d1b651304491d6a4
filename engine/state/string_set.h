/* A read-only hash set of byte strings with a 32-bit id per string, built once: open
 * addressing with linear probing over a power-of-two table of (hash tag, id) slots. */
#ifndef VD_STRING_SET_H
#define VD_STRING_SET_H

#include <stddef.h>
#include <stdint.h>

#define VD_STRING_NONE UINT32_MAX

typedef struct vd_string {
    const char *s;
    uint32_t len;
    uint32_t id; /* the caller's; of two equal strings the one with the larger id wins */
} vd_string_t;

typedef struct vd_string_set {
    uint64_t *slots; /* high 32 bits: hash tag; low 32: index into strings, or all ones */
    size_t mask;
    const vd_string_t *strings; /* the caller's array; must outlive the set */
} vd_string_set_t;

/* Builds the set over strings[0..n) (kept by reference). Returns 0 or VD_ENOMEM. */
int vd_string_set_build(vd_string_set_t *set, const vd_string_t *strings, size_t n);

/* The id of s, or VD_STRING_NONE. */
uint32_t vd_string_set_find(const vd_string_set_t *set, const char *s, size_t len);

size_t vd_string_set_bytes(const vd_string_set_t *set);
void vd_string_set_free(vd_string_set_t *set);

#endif
