/* textclf-score MODEL FILE...: the log-odds of each raw message file, with 17 significant
 * digits; with MODEL "-" the message's buckets instead, with MODEL "--stats" its statistics.
 * Reads at most the plugin's default max_bytes of each file, as the plugin does. Used by the
 * parity tests. */
#include "features.h"
#include "model.h"
#include "stats.h"

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
    int buckets_only = strcmp(argv[1], "-") == 0, stats_only = strcmp(argv[1], "--stats") == 0;
    if (!buckets_only && !stats_only && tc_model_load(argv[1], &m, err, sizeof err) != 0)
        return fprintf(stderr, "%s\n", err), 1;
    for (int i = 2; i < argc; i++) {
        size_t len, n;
        uint32_t *b;
        unsigned char *raw = slurp(argv[i], &len);
        if (len > TC_MAX_BYTES_DEFAULT) len = TC_MAX_BYTES_DEFAULT;
        if (raw && stats_only) {
            tc_pieces_t pc;
            double st[TC_NSTATS];
            if (tc_parse(raw, len, &pc) != 0 || tc_stats(&pc, st) != 0) return 1;
            for (int k = 0; k < TC_NSTATS; k++)
                printf("%s%.17g", k ? " " : "", st[k]);
            printf("\n");
            tc_pieces_free(&pc);
            free(raw);
            continue;
        }
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
