/* textclf-score MODEL FILE...: the log-odds of each raw message file, with 17 significant
 * digits, and (with MODEL "-") the message's buckets instead. Used by the parity tests. */
#include "features.h"
#include "model.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static unsigned char *slurp(const char *path, size_t *len) {
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    unsigned char *d = malloc(n > 0 ? (size_t)n : 1);
    *len = d ? fread(d, 1, (size_t)n, f) : 0;
    fclose(f);
    return d;
}

int main(int argc, char **argv) {
    if (argc < 3) return fprintf(stderr, "usage: textclf-score MODEL|- FILE...\n"), 2;
    tc_model_t m = {.bits = 20, .seed = 0};
    char err[512];
    int buckets_only = strcmp(argv[1], "-") == 0;
    if (!buckets_only && tc_model_load(argv[1], &m, err, sizeof err) != 0)
        return fprintf(stderr, "%s\n", err), 1;
    for (int i = 2; i < argc; i++) {
        size_t len, n;
        uint32_t *b;
        unsigned char *raw = slurp(argv[i], &len);
        if (!raw || tc_message_buckets(raw, len, m.bits, m.seed, &b, &n) != 0)
            return fprintf(stderr, "%s: cannot read or parse\n", argv[i]), 1;
        if (buckets_only) {
            for (size_t k = 0; k < n; k++)
                printf("%s%u", k ? " " : "", b[k]);
            printf("\n");
        } else {
            printf("%.17g\n", tc_model_log_odds(&m, b, n));
        }
        free(b);
        free(raw);
    }
    tc_model_free(&m);
    return 0;
}
