/* verdict-campaign-bench: the campaign index's cost per item, single-threaded, as the median of
 * 31 batches, and its memory per campaign.
 *
 *   text    sketch + lookup + insert of a 5 KB HTML message (256 templates, 8 copies each with
 *           their names, numbers and links changed), on an index holding 100,000 other text
 *           campaigns; the sketch alone beside it.
 *   fields  a lockstep lookup: 4 field values made a key and counted with a source, over
 *           100,000 groups.
 *
 * verdict-campaign-bench count text|fields N: only N items after the same setup, for
 * callgrind (tests/bench/campaign_instr.sh takes the difference of two counts). */
#include "state/campaign.h"
#include "state/campaign_key.h"
#include "state/sketch.h"

#include "bench_time.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define TEMPLATES 256
#define COPIES    8
#define MESSAGES  (TEMPLATES * COPIES)
#define MSG_BYTES 5120
#define OTHERS    100000
#define GROUPS    100000
#define OPS       2048
#define T0        1767225600

static uint32_t next(uint32_t *x) {
    *x = *x * 1664525u + 1013904223u;
    return *x >> 8;
}

/* A pseudo-word of 2 to 4 syllables from a vocabulary of about 5,000. */
static size_t word(char *out, uint32_t n) {
    static const char *const syl[] = {"ka", "lo", "mi",  "ren", "sta", "vel", "dor", "pin",
                                      "ex", "tu", "gar", "ni",  "bro", "se",  "al",  "qui"};
    size_t len = 0;
    for (int k = 0; k < 2 + (int)(n % 3); k++, n /= 16)
        len += (size_t)sprintf(out + len, "%s", syl[n % 16]);
    return len;
}

/* Copy c of template t: about 5 KB of HTML paragraphs; one word in 25 changes per copy, and
 * each copy greets another name, quotes another amount and links another path. */
static void message(char *out, int t, int c) {
    uint32_t x = (uint32_t)t * 7919u + 1, y = (uint32_t)(t * COPIES + c) * 104729u + 7;
    size_t at = (size_t)sprintf(out, "<html><body><p>Dear customer %d, you owe $%d.%02d.</p><p>",
                                c * 31 + t, (int)(next(&y) % 900), (int)(next(&y) % 100));
    for (int w = 0; at < MSG_BYTES - 120; w++) {
        uint32_t n = next(&x) % 5000;
        if (next(&y) % 25 == 0) n = next(&y) % 5000;
        at += word(out + at, n);
        out[at++] = ' ';
        if (w % 60 == 59) at += (size_t)sprintf(out + at, "</p><p>");
    }
    sprintf(out + at, "https://pay.example/%08x</p></body></html>", (unsigned)next(&y));
}

static void fill_others(vd_campaigns_t *c) {
    char text[512];
    vd_sketch_t sk;
    vd_campaign_view_t v;
    vd_campaign_opts_t o = {0};
    uint32_t x = 99;
    for (int i = 0; i < OTHERS; i++) {
        size_t at = 0;
        for (int w = 0; w < 40; w++) {
            at += word(text + at, next(&x) % 5000);
            text[at++] = ' ';
        }
        vd_sketch_text(text, at, &sk);
        vd_campaign_text(c, &sk, &o, T0, &v);
    }
}

static uint64_t text_item(vd_campaigns_t *c, const char *msg, int i) {
    vd_sketch_t sk;
    vd_campaign_view_t v;
    char src[16];
    int n = snprintf(src, sizeof src, "s%d", i % 97);
    vd_campaign_opts_t o = {.source = src, .source_len = (size_t)n};
    if (vd_sketch_text(msg, strlen(msg), &sk) != 0) return 0;
    vd_campaign_text(c, &sk, &o, T0 + i / 64, &v);
    return v.size;
}

/* The values lockstep items are made of, formatted once so that the figures are the index's. */
typedef struct values {
    char shape[7][8], domain[50][16], agent[300][32], net[50000][24];
    size_t nshape[7], ndomain[50], nagent[300], nnet[50000];
} values_t;

static values_t *make_values(void) {
    values_t *v = malloc(sizeof *v);
    for (int i = 0; v && i < 50000; i++) {
        if (i < 7) v->nshape[i] = (size_t)snprintf(v->shape[i], 8, "a_a%d", i);
        if (i < 50) v->ndomain[i] = (size_t)snprintf(v->domain[i], 16, "d%d.example", i);
        if (i < 300) v->nagent[i] = (size_t)snprintf(v->agent[i], 32, "Mozilla/5.0 Chrome/%d", i);
        v->nnet[i] = (size_t)snprintf(v->net[i], 24, "10.%d.%d.0/24", i % 200, i / 200);
    }
    return v;
}

static uint64_t fields_item(vd_campaigns_t *c, const values_t *val, uint32_t g, int i) {
    uint32_t s = g % 7, d = (g / 7) % 50, a = g / 350, n = (uint32_t)i % 50000;
    vd_campaign_kv_t f[4] = {{"shape", val->shape[s], 5, val->nshape[s]},
                             {"domain", val->domain[d], 6, val->ndomain[d]},
                             {"agent", val->agent[a], 5, val->nagent[a]},
                             {"timing", "1", 6, 1}};
    uint64_t key;
    vd_campaign_view_t v;
    vd_campaign_opts_t o = {.source = val->net[n], .source_len = val->nnet[n], .window = 1200};
    vd_campaign_fields_key(f, 4, &key);
    vd_campaign_fields(c, key, &o, T0 + i / 1000, &v);
    return v.recent;
}

static void report_memory(vd_campaigns_t *c) {
    vd_campaign_stats_t st[VD_CAMPAIGN_KINDS];
    vd_campaigns_stats(c, st);
    for (int k = 0; k < VD_CAMPAIGN_KINDS; k++)
        if (st[k].entries)
            printf("campaign: %s: %llu campaigns, %.0f bytes each on average%s\n",
                   vd_campaign_kind_names[k], (unsigned long long)st[k].entries,
                   (double)st[k].bytes / (double)st[k].entries,
                   k == VD_CAMPAIGN_TEXT ? " (band entries and members' bands included)" : "");
}

static double median(double *t) {
    sort_batches(t);
    return t[BATCHES / 2];
}

static void bench_text(vd_campaigns_t *c, char **msgs) {
    double t[BATCHES], s[BATCHES];
    uint64_t sink = 0;
    vd_sketch_t sk;
    for (int b = 0; b < BATCHES; b++) {
        double t0 = now_ns();
        for (int i = 0; i < OPS; i++)
            sink += text_item(c, msgs[(b * OPS + i) % MESSAGES], b * OPS + i);
        t[b] = (now_ns() - t0) / OPS;
        t0 = now_ns();
        for (int i = 0; i < OPS; i++)
            sink += (uint64_t)vd_sketch_text(msgs[i % MESSAGES], strlen(msgs[i % MESSAGES]), &sk) +
                    sk.h[0];
        s[b] = (now_ns() - t0) / OPS;
    }
    printf("campaign: text, 5 KB HTML message: sketch + lookup + insert median %.2f us "
           "(sketch alone %.2f us) over %d campaigns%s\n",
           median(t) / 1000, median(s) / 1000, OTHERS + TEMPLATES, sink ? "" : " ");
}

static void bench_fields(vd_campaigns_t *c, const values_t *val) {
    double t[BATCHES];
    uint64_t sink = 0;
    uint32_t x = 5;
    for (int b = 0; b < BATCHES; b++) {
        double t0 = now_ns();
        for (int i = 0; i < OPS * 8; i++)
            sink += fields_item(c, val, next(&x) % GROUPS, b * OPS * 8 + i);
        t[b] = (now_ns() - t0) / (OPS * 8);
    }
    printf("campaign: lockstep lookup (4 fields made a key, counted with a source) median %.2f us "
           "over %d groups%s\n",
           median(t) / 1000, GROUPS, sink ? "" : " ");
}

int main(int argc, char **argv) {
    int count = argc == 4 && strcmp(argv[1], "count") == 0 ? (int)strtol(argv[3], NULL, 10) : -1;
    const char *only = count >= 0 ? argv[2] : NULL;
    vd_campaigns_t *c = vd_campaigns_new((size_t)512 << 20);
    char **msgs = calloc((size_t)MESSAGES, sizeof *msgs);
    values_t *val = make_values();
    int ok = c && msgs && val;
    for (int i = 0; ok && i < MESSAGES; i++) {
        if (!(msgs[i] = malloc((size_t)MSG_BYTES + 64))) ok = 0;
        if (ok) message(msgs[i], i / COPIES, i % COPIES);
    }
    if (!ok) fprintf(stderr, "out of memory\n");
    if (ok) {
        if (!only || strcmp(only, "text") == 0) fill_others(c);
        for (int i = 0; (!only || strcmp(only, "fields") == 0) && i < GROUPS; i++)
            fields_item(c, val, (uint32_t)i, i);
        if (only) { /* for callgrind: just the items */
            uint64_t sink = 0;
            for (int i = 0; i < count; i++)
                sink += strcmp(only, "text") == 0
                            ? text_item(c, msgs[i % MESSAGES], i)
                            : fields_item(c, val, (uint32_t)(i * 7919) % GROUPS, i);
            printf("%llu\n", (unsigned long long)sink);
        } else {
            bench_text(c, msgs);
            bench_fields(c, val);
            report_memory(c);
        }
    }
    for (int i = 0; msgs && i < MESSAGES; i++)
        free(msgs[i]);
    free(msgs);
    free(val);
    vd_campaigns_free(c);
    return ok ? 0 : 1;
}
