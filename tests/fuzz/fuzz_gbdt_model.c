/* libFuzzer target: the gbdt plugin's XGBoost JSON model loader and its checks. A refusal
 * must say why; a model that loads must be safe to evaluate: rows of missing values, of
 * extremes and of the model's own thresholds walk every tree without leaving its nodes or the
 * row (the row is allocated at its exact size, so ASan sees a read past it), to a finite
 * margin and output. */
#include "../../plugins/gbdt/model.h"

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Each feature at the threshold of a split on it, so walks take both sides of some splits. */
static void thresholds_row(const gbdt_model_t *m, float *x) {
    for (int32_t t = 0; t < m->ntrees; t++)
        for (int32_t i = 0; i < m->trees[t].n; i++) {
            const gbdt_node_t *nd = &m->trees[t].nodes[i];
            if (nd->left != i) x[nd->feature & ~GBDT_DEFAULT_LEFT] = nd->value;
        }
}

static void evaluate(const gbdt_model_t *m) {
    float *x = malloc((size_t)m->nfeatures * sizeof *x);
    if (!x) return;
    const float fills[] = {NAN, 0.0f, INFINITY, -INFINITY};
    for (size_t r = 0; r <= sizeof fills / sizeof fills[0]; r++) {
        for (int32_t i = 0; i < m->nfeatures; i++)
            x[i] = r < sizeof fills / sizeof fills[0] ? fills[r] : NAN;
        if (r == sizeof fills / sizeof fills[0]) thresholds_row(m, x);
        float margin = gbdt_model_margin(m, x);
        if (!isfinite(margin) || !isfinite(gbdt_model_link(m, margin))) abort();
    }
    free(x);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    gbdt_model_t m;
    char err[512] = "";
    if (gbdt_model_parse((const char *)data, size, "fuzz.json", &m, err, sizeof err) != 0) {
        if (strncmp(err, "fuzz.json: ", 11) != 0 || !err[11]) abort(); /* names file and why */
        return 0;
    }
    evaluate(&m);
    gbdt_model_free(&m);
    return 0;
}
