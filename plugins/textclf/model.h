/* The textclf model file (format in verdict_train/textclf.py) and its score. */
#ifndef TEXTCLF_MODEL_H
#define TEXTCLF_MODEL_H

#include <stddef.h>
#include <stdint.h>

typedef struct tc_model {
    unsigned bits;
    uint64_t seed;
    double bias;
    double *weights; /* dense, 2^bits entries */
    size_t nonzero;
} tc_model_t;

/* Loads a model; on failure returns -1 with the reason (and the path) in err. */
int tc_model_load(const char *path, tc_model_t *m, char *err, size_t errlen);

/* The same from the len bytes of a model file in memory; name stands for the file in err. */
int tc_model_parse(const unsigned char *data, size_t len, const char *name, tc_model_t *m,
                   char *err, size_t errlen);

void tc_model_free(tc_model_t *m);

/* bias + the weights of the sorted distinct buckets, added in that order (float64). */
double tc_model_log_odds(const tc_model_t *m, const uint32_t *buckets, size_t n);

#endif
