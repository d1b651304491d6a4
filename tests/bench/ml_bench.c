/* verdict-ml-bench: the cost of one textclf and one gbdt evaluation, single-threaded, as the
 * median of 31 batches (nanoseconds per call).
 *   verdict-ml-bench TEXTCLF_MODEL MESSAGE_FILE GBDT_MODEL ROWS_CSV */
#include "../../plugins/gbdt/model.h"
#include "../../plugins/textclf/features.h"
#include "../../plugins/textclf/model.h"

#include "bench_time.h"
#include <math.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static unsigned char *slurp(const char *path, size_t *len) {
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    unsigned char *d = malloc((size_t)n + 1);
    *len = d ? fread(d, 1, (size_t)n, f) : 0;
    fclose(f);
    return d;
}

static volatile double sink;

static double textclf_ns(const tc_model_t *m, const unsigned char *raw, size_t len, int iters) {
    double t0 = now_ns();
    for (int i = 0; i < iters; i++) {
        uint32_t *b;
        size_t n;
        if (tc_message_buckets(raw, len, m->bits, m->seed, &b, &n) != 0) exit(1);
        sink = 1.0 / (1.0 + exp(-tc_model_log_odds(m, b, n)));
        free(b);
    }
    return (now_ns() - t0) / iters;
}

static double gbdt_ns(const gbdt_model_t *m, const float *rows, int nrows, int iters) {
    double t0 = now_ns();
    for (int i = 0; i < iters; i++)
        sink = gbdt_model_predict(m, rows + (size_t)(i % nrows) * (size_t)m->nfeatures);
    return (now_ns() - t0) / iters;
}

int main(int argc, char **argv) {
    if (argc != 5) return fprintf(stderr, "usage: verdict-ml-bench TEXTCLF MSG GBDT ROWS\n"), 2;
    tc_model_t tm;
    gbdt_model_t gm;
    char err[512];
    size_t len;
    unsigned char *msg = slurp(argv[2], &len);
    if (!msg || tc_model_load(argv[1], &tm, err, sizeof err) ||
        gbdt_model_load(argv[3], &gm, err, sizeof err))
        return fprintf(stderr, "%s\n", msg ? err : "cannot read the message"), 1;
    FILE *f = fopen(argv[4], "r");
    float *rows = calloc((size_t)gm.nfeatures * 1000, sizeof *rows);
    int nrows = 0;
    char line[65536];
    while (f && rows && nrows < 1000 && fgets(line, sizeof line, f)) {
        char *p = line;
        for (int j = 0; j < gm.nfeatures; j++) {
            char *end;
            float v = strtof(p, &end);
            rows[(size_t)nrows * (size_t)gm.nfeatures + (size_t)j] = end == p ? NAN : v;
            p = strchr(end, ',');
            p = p ? p + 1 : end;
        }
        nrows++;
    }
    if (f) fclose(f);
    if (!nrows) return fprintf(stderr, "no rows\n"), 1;
    double t[BATCHES], g[BATCHES];
    for (int b = 0; b < BATCHES; b++) {
        t[b] = textclf_ns(&tm, msg, len, 200);
        g[b] = gbdt_ns(&gm, rows, nrows, 20000);
    }
    sort_batches(t);
    sort_batches(g);
    printf("textclf: %zu-byte message, median %.1f us per message (min %.1f)\n", len,
           t[BATCHES / 2] / 1000, t[0] / 1000);
    printf("gbdt: %d trees, median %.2f us per row (min %.2f)\n", gm.ntrees, g[BATCHES / 2] / 1000,
           g[0] / 1000);
    tc_model_free(&tm);
    gbdt_model_free(&gm);
    free(rows);
    free(msg);
    return 0;
}
