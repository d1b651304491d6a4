/* gbdt-predict MODEL.json ROWS.csv: one prediction per row (comma-separated float32 values,
 * empty or "nan" for missing), printed with 9 significant digits. Used by the parity tests. */
#include "model.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int main(int argc, char **argv) {
    if (argc != 3) return fprintf(stderr, "usage: gbdt-predict MODEL.json ROWS.csv\n"), 2;
    gbdt_model_t m;
    char err[1024];
    if (gbdt_model_load(argv[1], &m, err, sizeof err) != 0) return fprintf(stderr, "%s\n", err), 1;
    FILE *f = fopen(argv[2], "r");
    if (!f) return perror(argv[2]), 1;
    float *x = calloc((size_t)m.nfeatures + 1, sizeof *x);
    char line[1 << 16];
    while (x && fgets(line, sizeof line, f)) {
        char *p = line;
        for (int32_t i = 0; i < m.nfeatures; i++) {
            char *end;
            x[i] = strtof(p, &end);
            if (end == p) x[i] = NAN;
            p = strchr(end, ',');
            p = p ? p + 1 : end;
        }
        printf("%.9g %.9g\n", (double)gbdt_model_predict(&m, x), (double)gbdt_model_margin(&m, x));
    }
    fclose(f);
    free(x);
    gbdt_model_free(&m);
    return 0;
}
