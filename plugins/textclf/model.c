#include "model.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_BITS 24
/* The header, 2^24 weights of 12 bytes, and up to 64 MiB of metadata. */
#define MAX_FILE_BYTES ((size_t)36 + ((size_t)12 << MAX_BITS) + ((size_t)64 << 20))

static uint32_t u32(const unsigned char *p) {
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static uint64_t u64(const unsigned char *p) {
    return (uint64_t)u32(p) | (uint64_t)u32(p + 4) << 32;
}

static double f64(const unsigned char *p) {
    uint64_t v = u64(p);
    double d;
    memcpy(&d, &v, sizeof d);
    return d;
}

static int fail(char *err, size_t errlen, const char *name, const char *why) {
    snprintf(err, errlen, "%s: %s", name, why);
    return -1;
}

/* Checks every count and offset against the file's size, every bucket against the table and
 * every number for finiteness, and the weights' sum: no model file can make the scorer read
 * outside its table or turn a score into NaN or an infinity. */
static int parse(const unsigned char *d, size_t n, tc_model_t *m, const char *name, char *err,
                 size_t errlen) {
    if (n < 36 || memcmp(d, "VDTXTCLF", 8) != 0)
        return fail(err, errlen, name, "not a textclf model (bad magic)");
    if (u32(d + 8) != 1) return fail(err, errlen, name, "unsupported textclf format version");
    m->bits = u32(d + 12);
    m->seed = u64(d + 16);
    m->bias = f64(d + 24);
    if (m->bits < 8 || m->bits > MAX_BITS)
        return fail(err, errlen, name, "bucket bits out of range (8 to 24)");
    if (!isfinite(m->bias)) return fail(err, errlen, name, "the bias is not a finite number");
    uint32_t count = u32(d + 32);
    if ((n - 36) / 12 < count) return fail(err, errlen, name, "truncated weights");
    if (!(m->weights = calloc((size_t)1 << m->bits, sizeof *m->weights)))
        return fail(err, errlen, name, "out of memory");
    long prev = -1;
    /* A score is the bias plus some weights, added in bucket order. Rounding is monotone, so
     * when the magnitudes of all of them, added in that order, stay finite, every score does. */
    double reach = fabs(m->bias);
    for (uint32_t i = 0; i < count; i++) {
        const unsigned char *w = d + 36 + (size_t)i * 12;
        uint32_t b = u32(w);
        if ((long)b <= prev || b >= (1u << m->bits))
            return fail(err, errlen, name, "weights out of order or out of range");
        m->weights[b] = f64(w + 4);
        if (!isfinite(m->weights[b]))
            return fail(err, errlen, name, "a weight is not a finite number");
        reach += fabs(m->weights[b]);
        prev = (long)b;
    }
    if (!isfinite(reach))
        return fail(err, errlen, name,
                    "weights so large that a score could overflow (past 1.8e308)");
    m->nonzero = count;
    size_t meta = 36 + (size_t)count * 12;
    if (n < meta + 4 || n - meta - 4 < u32(d + meta))
        return fail(err, errlen, name, "truncated metadata");
    if (n - meta - 4 > u32(d + meta))
        return fail(err, errlen, name, "bytes after the metadata (not one model file)");
    return 0;
}

/* Reads the whole file, up to the largest model the format allows. Returns 0 or -1. */
static int read_file(FILE *f, unsigned char **data, size_t *len) {
    size_t cap = 0, got;
    *data = NULL;
    *len = 0;
    do {
        if (*len == cap) {
            unsigned char *more = realloc(*data, cap = cap ? cap * 2 : 1 << 20);
            if (!more) return -1;
            *data = more;
        }
        got = fread(*data + *len, 1, cap - *len, f);
        *len += got;
        if (*len > MAX_FILE_BYTES) return -1;
    } while (got > 0);
    return ferror(f) ? -1 : 0;
}

int tc_model_parse(const unsigned char *data, size_t len, const char *name, tc_model_t *m,
                   char *err, size_t errlen) {
    memset(m, 0, sizeof *m);
    int rc = parse(data, len, m, name, err, errlen);
    if (rc) tc_model_free(m);
    return rc;
}

int tc_model_load(const char *path, tc_model_t *m, char *err, size_t errlen) {
    memset(m, 0, sizeof *m);
    FILE *f = fopen(path, "rb");
    if (!f) return fail(err, errlen, path, "cannot open the model file");
    unsigned char *data;
    size_t len;
    int rc = read_file(f, &data, &len);
    fclose(f);
    rc = rc ? fail(err, errlen, path,
                   "cannot read it whole (unreadable, out of memory, or "
                   "larger than any textclf model)")
            : tc_model_parse(data, len, path, m, err, errlen);
    free(data);
    return rc;
}

void tc_model_free(tc_model_t *m) {
    free(m->weights);
    memset(m, 0, sizeof *m);
}

double tc_model_log_odds(const tc_model_t *m, const uint32_t *buckets, size_t n) {
    double s = m->bias;
    for (size_t i = 0; i < n; i++)
        s += m->weights[buckets[i]];
    return s;
}
