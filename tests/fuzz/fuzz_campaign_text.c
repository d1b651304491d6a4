/* libFuzzer target: the text normaliser and sketch (engine/state/sketch.c), which read mail
 * bodies and any other text a rule or a plugin hands to verdict.campaign, and the campaign
 * index behind them. The input is one text; it is sketched twice (the same sketch both times),
 * filed into a small index with its two halves (so bands collide and campaigns evict), and a
 * lockstep key is made of its lines. */
#include "state/campaign.h"
#include "state/campaign_key.h"
#include "state/sketch.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void file_text(vd_campaigns_t *c, const char *text, size_t len, int64_t now) {
    vd_sketch_t sk;
    vd_campaign_view_t v;
    vd_campaign_opts_t o = {.source = text, .source_len = len < 16 ? len : 16};
    if (vd_sketch_text(text, len, &sk) != 0) return;
    if (vd_campaign_text(c, &sk, &o, now, &v) != 0) abort();
    if (v.size == 0 || v.agree <= VD_SKETCH_HASHES / 2) abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    const char *text = (const char *)data;
    vd_sketch_t a, b;
    int ra = vd_sketch_text(text, size, &a), rb = vd_sketch_text(text, size, &b);
    if (ra != rb || (ra == 0 && memcmp(a.h, b.h, sizeof a.h) != 0)) abort(); /* deterministic */
    vd_campaigns_t *c = vd_campaigns_new(64 << 10);
    if (!c) return 0;
    file_text(c, text, size, 1000);
    file_text(c, text, size / 2, 2000);
    file_text(c, text + size / 2, size - size / 2, 3000);
    file_text(c, text, size, 4000);
    vd_campaign_kv_t f[VD_CAMPAIGN_MAX_FIELDS];
    size_t n = 0;
    const char *p = text, *end = text + size;
    while (p < end && n < VD_CAMPAIGN_MAX_FIELDS) { /* "name=value" lines */
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        const char *line_end = nl ? nl : end;
        const char *eq = memchr(p, '=', (size_t)(line_end - p));
        if (eq)
            f[n++] = (vd_campaign_kv_t){p, eq + 1, (size_t)(eq - p), (size_t)(line_end - eq - 1)};
        p = line_end + 1;
    }
    uint64_t key;
    vd_campaign_view_t v;
    vd_campaign_opts_t o = {0};
    if (vd_campaign_fields_key(f, n, &key) == 0 && vd_campaign_fields(c, key, &o, 5000, &v) != 0)
        abort();
    vd_campaigns_free(c);
    return 0;
}
