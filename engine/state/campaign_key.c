#include "campaign_key.h"

#include "base/error.h"

#include <string.h>
#include <xxhash.h>

static int by_name(const vd_campaign_kv_t *a, const vd_campaign_kv_t *b) {
    size_t n = a->nlen < b->nlen ? a->nlen : b->nlen;
    int c = memcmp(a->name, b->name, n);
    return c ? c : (a->nlen > b->nlen) - (a->nlen < b->nlen);
}

/* Insertion sort: a handful of fields, and no allocation. */
static void sort_fields(vd_campaign_kv_t *f, size_t n) {
    for (size_t i = 1; i < n; i++) {
        vd_campaign_kv_t x = f[i];
        size_t j = i;
        for (; j > 0 && by_name(&f[j - 1], &x) > 0; j--)
            f[j] = f[j - 1];
        f[j] = x;
    }
}

int vd_campaign_fields_key(vd_campaign_kv_t *f, size_t n, uint64_t *key) {
    if (n == 0 || n > VD_CAMPAIGN_MAX_FIELDS) return VD_EINVAL;
    sort_fields(f, n);
    uint64_t h = 0x5ca1ab1e;
    for (size_t i = 0; i < n; i++) {
        if (i && by_name(&f[i - 1], &f[i]) == 0) return VD_EINVAL;
        /* The name seeds the value's hash: "a"="bc" and "ab"="c" differ. */
        uint64_t name = XXH3_64bits(f[i].name, f[i].nlen);
        uint64_t one = XXH3_64bits_withSeed(f[i].value, f[i].vlen, name);
        h = XXH3_64bits_withSeed(&one, sizeof one, h);
    }
    *key = h;
    return 0;
}
