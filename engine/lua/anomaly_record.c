#include "anomaly_record.h"

#include "proto/mp_scan.h"

#include <stddef.h>
#include <stdint.h>
#include <string.h>

/* A number of a recorded answer (JSON made it an integer or a float). */
static int read_number(const char **p, const char *end, double *x) {
    vd_mp_value_t h;
    size_t n = vd_mp_read_head((const unsigned char *)*p, (size_t)(end - *p), &h);
    if (!n) return -1;
    *p += n;
    if (h.kind == VD_MP_FLOAT)
        *x = h.d;
    else if (h.kind == VD_MP_UINT)
        *x = (double)h.u;
    else if (h.kind == VD_MP_INT)
        *x = (double)h.i;
    else
        return -1;
    return 0;
}

int vd_anomaly_from_record(const char *packed, size_t plen, double value, vd_anomaly_result_t *r) {
    static const char *const names[] = {"value", "score",    "expected", "low",
                                        "high",  "surprise", "seen",     "flags"};
    double x[8];
    unsigned found = 0;
    const char *p = packed, *end = packed + plen;
    vd_mp_value_t h;
    size_t n = vd_mp_read_head((const unsigned char *)p, plen, &h);
    if (!n || h.kind != VD_MP_MAP) return -1;
    p += n;
    for (uint64_t i = 0; i < h.len; i++) {
        vd_mp_value_t k;
        size_t kn = vd_mp_read_head((const unsigned char *)p, (size_t)(end - p), &k);
        if (!kn || k.kind != VD_MP_STR || k.len > (uint64_t)(end - p - (ptrdiff_t)kn)) return -1;
        const char *name = p + kn;
        p = name + k.len;
        int at = -1;
        for (int j = 0; j < 8; j++)
            if (strlen(names[j]) == k.len && memcmp(names[j], name, k.len) == 0) at = j;
        if (at >= 0) {
            if (read_number(&p, end, &x[at]) != 0) return -1;
            found |= 1u << at;
        } else {
            size_t skip = vd_mp_skip(p, (size_t)(end - p)); /* "why", for explain */
            if (!skip) return -1;
            p += skip;
        }
    }
    if (found != 0xffu || x[0] != value || !(x[6] >= 0 && x[6] < 1e19) ||
        !(x[7] >= 0 && x[7] <= UINT32_MAX))
        return -1; /* a record from before these were kept, or a candidate with another value */
    *r = (vd_anomaly_result_t){.value = x[0],
                               .score = x[1],
                               .expected = x[2],
                               .low = x[3],
                               .high = x[4],
                               .surprise = x[5],
                               .seen = (uint64_t)x[6],
                               .why = (uint32_t)x[7]};
    return 0;
}
