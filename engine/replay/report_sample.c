#include "report_sample.h"

#include "base/error.h"
#include "base/utf8.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include <xxhash.h>

static void free_sample(vd_sample_t *x) {
    if (!x) return;
    for (int s = 0; s < VD_SIDES; s++) {
        free(x->side[s].reasons);
        free(x->side[s].rules);
    }
    free(x->id);
    free(x);
}

/* Reasons as compact JSON text, whatever the row held: valid JSON is written again in one
 * form, anything else becomes a string, so that the writers can always parse it. */
static char *normalize_reasons(const char *text) {
    json_t *v = json_loads(text, JSON_DECODE_ANY, NULL);
    if (!v) {
        size_t n = strlen(text);
        char *fixed = malloc(vd_utf8_repair(text, n, NULL) + 1);
        if (!fixed) return NULL;
        size_t m = vd_utf8_repair(text, n, fixed);
        v = json_stringn(fixed, m);
        free(fixed);
        if (!v) return NULL;
    }
    char *out = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
    json_decref(v);
    return out;
}

static int copy_side(vd_sample_side_t *d, const vd_replay_side_t *s, uint32_t action,
                     const uint32_t *rules, size_t nrules) {
    d->action = action;
    d->score = s->score;
    if (s->reasons_json && !(d->reasons = normalize_reasons(s->reasons_json))) return VD_ENOMEM;
    if (nrules) {
        if (!(d->rules = malloc(nrules * sizeof *rules))) return VD_ENOMEM;
        memcpy(d->rules, rules, nrules * sizeof *rules);
        d->nrules = nrules;
    }
    return 0;
}

static vd_sample_t *new_sample(const vd_sample_in_t *in) {
    vd_sample_t *x = calloc(1, sizeof *x);
    if (!x) return NULL;
    const vd_replay_row_t *row = in->row;
    x->seq = in->seq;
    x->time_ms = row->time_ms;
    x->pipeline = in->pipeline;
    x->label = row->label < 0 ? -1 : row->label > 0;
    const vd_replay_side_t *sides[VD_SIDES] = {&row->before, &row->after};
    int ok = !row->id || (x->id = strdup(row->id));
    for (int s = 0; ok && s < VD_SIDES; s++)
        ok = copy_side(&x->side[s], sides[s], in->action[s], in->rules[s], in->nrules[s]) == 0;
    if (!ok) {
        free_sample(x);
        return NULL;
    }
    return x;
}

void vd__samples_init(vd_samples_t *s, const char *seed) {
    memset(s, 0, sizeof *s);
    s->rng = XXH3_64bits(seed, strlen(seed));
}

void vd__samples_free(vd_samples_t *s) {
    for (size_t i = 0; i < s->nfirst; i++)
        free_sample(s->first[i]);
    for (size_t i = 0; i < s->nreservoir; i++)
        free_sample(s->reservoir[i]);
    free(s->first);
    free(s->reservoir);
    memset(s, 0, sizeof *s);
}

static uint64_t splitmix64(uint64_t *state) {
    uint64_t z = (*state += 0x9e3779b97f4a7c15u);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9u;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebu;
    return z ^ (z >> 31);
}

/* Appends to an array grown by doubling (its capacity is implied by the count: the next
 * power of two). */
static int append(vd_sample_t ***arr, size_t *n, vd_sample_t *x) {
    if ((*n & (*n - 1)) == 0) {
        size_t cap = *n ? *n * 2 : 1;
        vd_sample_t **more = realloc(*arr, cap * sizeof *more);
        if (!more) return VD_ENOMEM;
        *arr = more;
    }
    (*arr)[(*n)++] = x;
    return 0;
}

int vd__samples_offer(vd_samples_t *s, size_t nfirst, size_t nreservoir, const vd_sample_in_t *in) {
    vd_sample_t ***arr = &s->first;
    size_t *n = &s->nfirst, slot = SIZE_MAX;
    if (s->nfirst >= nfirst) {
        if (nreservoir == 0) return 0;
        s->later++;
        arr = &s->reservoir;
        n = &s->nreservoir;
        if (s->later > nreservoir) {
            /* Algorithm R: the i-th later decision replaces a kept one with probability
             * nreservoir / i, so every later decision is kept with the same chance. */
            uint64_t j = splitmix64(&s->rng) % s->later;
            if (j >= nreservoir) return 0;
            slot = (size_t)j;
        }
    }
    vd_sample_t *x = new_sample(in);
    if (!x) return VD_ENOMEM;
    if (slot < *n) {
        free_sample((*arr)[slot]);
        (*arr)[slot] = x;
        return 0;
    }
    if (append(arr, n, x) != 0) {
        free_sample(x);
        return VD_ENOMEM;
    }
    return 0;
}

static int by_seq(const void *a, const void *b) {
    uint64_t x = (*(const vd_sample_t *const *)a)->seq, y = (*(const vd_sample_t *const *)b)->seq;
    return (x > y) - (x < y);
}

const vd_sample_t **vd__samples_sorted(const vd_samples_t *s, size_t *n) {
    *n = s->nfirst + s->nreservoir;
    if (*n == 0) return NULL;
    const vd_sample_t **out = malloc(*n * sizeof *out);
    if (!out) {
        *n = SIZE_MAX;
        return NULL;
    }
    for (size_t i = 0; i < s->nfirst; i++)
        out[i] = s->first[i];
    for (size_t i = 0; i < s->nreservoir; i++)
        out[s->nfirst + i] = s->reservoir[i];
    qsort(out, *n, sizeof *out, by_seq);
    return out;
}
