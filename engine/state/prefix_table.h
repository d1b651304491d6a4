/* Longest-prefix matching over a fixed set of CIDR prefixes. The prefixes are flattened into
 * disjoint address ranges, each carrying the id of the most specific prefix that covers it, so
 * a lookup is one search for the last range starting at or before the address: a bucket index
 * on the top bits (sized to about four ranges a bucket for IPv4) narrows it to one or two cache
 * lines. IPv4 and IPv6 keep separate tables. */
#ifndef VD_PREFIX_TABLE_H
#define VD_PREFIX_TABLE_H

#include "base/ipaddr.h"

#include <stddef.h>
#include <stdint.h>

#define VD_PREFIX_NONE UINT32_MAX

typedef unsigned __int128 vd_u128_t;

typedef struct vd_prefix {
    vd_cidr_t cidr;
    uint32_t id; /* the caller's; of two identical prefixes the one with the larger id wins */
} vd_prefix_t;

typedef struct vd_prefix_family {
    size_t n;
    uint64_t *range4;  /* IPv4: start (host order) << 32 | id, so one load gives both */
    vd_u128_t *start6; /* IPv6: range starts */
    uint32_t *id6;     /* IPv6: id per range */
    uint32_t *index;   /* nbuckets + 1 entries: ranges starting below bucket b (NULL: small) */
    size_t nbuckets;
    int shift;        /* bucket = key >> shift */
} vd_prefix_family_t; /* ids are VD_PREFIX_NONE for the gaps between prefixes */

typedef struct vd_prefix_table {
    vd_prefix_family_t v4, v6;
} vd_prefix_table_t;

/* Builds the table from n prefixes (reordered in place). Returns 0 or VD_ENOMEM. */
int vd_prefix_table_build(vd_prefix_table_t *t, vd_prefix_t *prefixes, size_t n);

/* The id of the longest prefix containing ip, or VD_PREFIX_NONE. */
uint32_t vd_prefix_table_find(const vd_prefix_table_t *t, const vd_ip_t *ip);

size_t vd_prefix_table_bytes(const vd_prefix_table_t *t);
void vd_prefix_table_free(vd_prefix_table_t *t);

#endif
