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

int vd_anomaly_from_record(const char *packed, size_t plen, double value, int64_t every,
                           vd_anomaly_result_t *r) {
    static const char *const names[] = {"value",    "score", "expected", "low",  "high",
                                        "surprise", "seen",  "flags",    "every"};
    enum { N = sizeof names / sizeof *names };
    double x[N];
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
        for (int j = 0; j < N; j++)
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
    /* Not an answer to this call: a record from before these fields were kept, or a candidate
     * asking about another value or with another period (every). */
    if (found != (1u << N) - 1 || x[0] != value || x[8] != (double)every ||
        !(x[6] >= 0 && x[6] < 1e19) || !(x[7] >= 0 && x[7] <= UINT32_MAX))
        return -1;
    *r = (vd_anomaly_result_t){.value = value, /* the caller's: -0 stays -0 */
                               .score = x[1],
                               .expected = x[2],
                               .low = x[3],
                               .high = x[4],
                               .surprise = x[5],
                               .seen = (uint64_t)x[6],
                               .why = (uint32_t)x[7]};
    return 0;
}
