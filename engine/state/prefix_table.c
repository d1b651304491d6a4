#include "prefix_table.h"

#include "base/error.h"

#include <stdlib.h>
#include <string.h>

#define SMALL 256 /* tables up to this many ranges are searched without the bucket index */

static vd_u128_t key_of(const vd_ip_t *ip) {
    vd_u128_t k = 0;
    for (int i = 0; i < 16; i++)
        k = k << 8 | ip->b[i];
    return k;
}

static vd_u128_t last_of(vd_u128_t first, int bits) {
    return bits == 0 ? ~(vd_u128_t)0 : first | ((((vd_u128_t)1) << (128 - bits)) - 1);
}

static int by_start_then_length(const void *a, const void *b) {
    const vd_prefix_t *x = a, *y = b;
    int c = memcmp(x->cidr.ip.b, y->cidr.ip.b, 16);
    if (c) return c;
    if (x->cidr.bits != y->cidr.bits) return x->cidr.bits < y->cidr.bits ? -1 : 1;
    return x->id < y->id ? -1 : x->id > y->id;
}

/* Ranges under construction, 128-bit starts for both families. */
typedef struct ranges {
    vd_u128_t *start;
    uint32_t *id;
    size_t n;
} ranges_t;

/* A range starting at pos; a second start at the same place replaces the first. */
static void emit(ranges_t *r, vd_u128_t pos, uint32_t id) {
    if (r->n && r->start[r->n - 1] == pos) {
        r->id[r->n - 1] = id;
        return;
    }
    if (r->n && r->id[r->n - 1] == id) return; /* continues the previous range */
    r->start[r->n] = pos;
    r->id[r->n++] = id;
}

typedef struct open {
    vd_u128_t last;
    uint32_t id;
} open_t;

/* Flattens sorted, deduplicated prefixes of one family spanning [lo, hi] into ranges. Prefixes
 * are nested or disjoint, so a stack of the open ones (at most 129) is enough. */
static void flatten(const vd_prefix_t *p, size_t n, vd_u128_t lo, vd_u128_t hi, ranges_t *r) {
    open_t stack[130];
    size_t sp = 0;
    emit(r, lo, VD_PREFIX_NONE);
    for (size_t i = 0; i <= n; i++) {
        vd_u128_t first = i < n ? key_of(&p[i].cidr.ip) : hi;
        while (sp && (i == n || stack[sp - 1].last < first)) {
            vd_u128_t after = stack[--sp].last;
            if (after < hi) emit(r, after + 1, sp ? stack[sp - 1].id : VD_PREFIX_NONE);
        }
        if (i == n) break;
        emit(r, first, p[i].id);
        stack[sp++] = (open_t){last_of(first, p[i].cidr.bits), p[i].id};
    }
}

static size_t start_bucket(const vd_prefix_family_t *f, size_t i) {
    return f->range4 ? (size_t)(f->range4[i] >> 32 >> f->shift)
                     : (size_t)(f->start6[i] >> f->shift);
}

/* IPv4: about four ranges a bucket (2^8 to 2^20 buckets); IPv6: the top 16 bits. */
static int build_index(vd_prefix_family_t *f, int v4) {
    if (f->n <= SMALL) return 0;
    int bits = 16;
    if (v4)
        for (bits = 8; bits < 20 && ((size_t)4 << bits) < f->n;)
            bits++;
    f->shift = (v4 ? 32 : 128) - bits;
    f->nbuckets = (size_t)1 << bits;
    if (!(f->index = malloc((f->nbuckets + 1) * sizeof *f->index))) return VD_ENOMEM;
    size_t i = 0;
    for (size_t b = 0; b <= f->nbuckets; b++) {
        while (i < f->n && start_bucket(f, i) < b)
            i++;
        f->index[b] = (uint32_t)i;
    }
    return 0;
}

static int build_family(vd_prefix_family_t *f, const vd_prefix_t *p, size_t n, int v4) {
    vd_u128_t lo = v4 ? (vd_u128_t)0xffff << 32 : 0;
    vd_u128_t hi = v4 ? lo | 0xffffffffu : ~(vd_u128_t)0;
    ranges_t r = {malloc((2 * n + 1) * sizeof *r.start), malloc((2 * n + 1) * sizeof *r.id), 0};
    if (!r.start || !r.id) {
        free(r.start);
        free(r.id);
        return VD_ENOMEM;
    }
    flatten(p, n, lo, hi, &r);
    f->n = r.n;
    if (v4) {
        f->range4 = malloc(r.n * sizeof *f->range4);
        for (size_t i = 0; f->range4 && i < r.n; i++)
            f->range4[i] = (uint64_t)(r.start[i] - lo) << 32 | r.id[i];
        free(r.start);
        free(r.id);
        if (!f->range4) return VD_ENOMEM;
    } else {
        f->start6 = realloc(r.start, r.n * sizeof *f->start6);
        f->id6 = realloc(r.id, r.n * sizeof *f->id6);
        if (!f->start6) f->start6 = r.start;
        if (!f->id6) f->id6 = r.id;
    }
    return build_index(f, v4);
}

/* Drops all but the last of identical prefixes (sorted: they are adjacent, last = largest id). */
static size_t dedup(vd_prefix_t *p, size_t n) {
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        if (k && p[k - 1].cidr.bits == p[i].cidr.bits &&
            memcmp(p[k - 1].cidr.ip.b, p[i].cidr.ip.b, 16) == 0)
            k--;
        p[k++] = p[i];
    }
    return k;
}

int vd_prefix_table_build(vd_prefix_table_t *t, vd_prefix_t *p, size_t n) {
    vd_prefix_t none;
    memset(t, 0, sizeof *t);
    if (!p) p = &none, n = 0; /* a list without entries */
    qsort(p, n, sizeof *p, by_start_then_length);
    n = dedup(p, n);
    size_t n6 = 0; /* IPv6 sorts first: ::ffff:0:0/96 lies above most of it, but not all */
    while (n6 < n && !p[n6].cidr.ip.v4)
        n6++;
    size_t n4 = 0;
    while (n6 + n4 < n && p[n6 + n4].cidr.ip.v4)
        n4++;
    /* IPv6 prefixes above the IPv4-mapped block (rare: not global unicast) follow it. */
    vd_prefix_t *tail = p + n6 + n4;
    size_t ntail = n - n6 - n4;
    if (ntail) {
        vd_prefix_t *v4 = malloc(n4 * sizeof *v4 + 1);
        if (!v4) return VD_ENOMEM;
        memcpy(v4, p + n6, n4 * sizeof *v4);
        memmove(p + n6, tail, ntail * sizeof *p);
        memcpy(p + n6 + ntail, v4, n4 * sizeof *v4);
        free(v4);
        n6 += ntail;
    }
    int rc = build_family(&t->v4, p + n6, n4, 1);
    if (!rc) rc = build_family(&t->v6, p, n6, 0);
    if (rc) vd_prefix_table_free(t);
    return rc;
}

static void bounds(const vd_prefix_family_t *f, size_t bucket, size_t *lo, size_t *hi) {
    if (!f->index) {
        *lo = 0;
        *hi = f->n;
        return;
    }
    *lo = f->index[bucket] ? f->index[bucket] - 1 : 0;
    *hi = f->index[bucket + 1];
}

/* The last range of [lo, hi) starting at or before the key (there is one: ranges cover the
 * whole space). For IPv4 the key has all ones below the start, so ids never decide. */
#define LAST_AT_OR_BEFORE(keys, lo, hi, key)                                                       \
    while (hi - lo > 1) {                                                                          \
        size_t mid = lo + (hi - lo) / 2;                                                           \
        if (keys[mid] <= key)                                                                      \
            lo = mid;                                                                              \
        else                                                                                       \
            hi = mid;                                                                              \
    }

uint32_t vd_prefix_table_find(const vd_prefix_table_t *t, const vd_ip_t *ip) {
    size_t lo, hi;
    if (ip->v4) {
        const vd_prefix_family_t *f = &t->v4;
        uint32_t x = (uint32_t)ip->b[12] << 24 | (uint32_t)ip->b[13] << 16 |
                     (uint32_t)ip->b[14] << 8 | ip->b[15];
        uint64_t key = (uint64_t)x << 32 | 0xffffffffu;
        bounds(f, f->index ? x >> f->shift : 0, &lo, &hi);
        LAST_AT_OR_BEFORE(f->range4, lo, hi, key)
        return (uint32_t)f->range4[lo];
    }
    const vd_prefix_family_t *f = &t->v6;
    vd_u128_t x = key_of(ip);
    bounds(f, f->index ? (size_t)(x >> f->shift) : 0, &lo, &hi);
    LAST_AT_OR_BEFORE(f->start6, lo, hi, x)
    return f->id6[lo];
}

static size_t family_bytes(const vd_prefix_family_t *f) {
    return f->n * (f->range4 ? sizeof *f->range4 : sizeof *f->start6 + sizeof *f->id6) +
           (f->index ? (f->nbuckets + 1) * sizeof *f->index : 0);
}

size_t vd_prefix_table_bytes(const vd_prefix_table_t *t) {
    return family_bytes(&t->v4) + family_bytes(&t->v6);
}

static void family_free(vd_prefix_family_t *f) {
    free(f->range4);
    free(f->start6);
    free(f->id6);
    free(f->index);
}

void vd_prefix_table_free(vd_prefix_table_t *t) {
    family_free(&t->v4);
    family_free(&t->v6);
    memset(t, 0, sizeof *t);
}
