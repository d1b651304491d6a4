#include "report_refs.h"

#include "base/error.h"
#include "state/campaign.h"

#include <string.h>
#include <xxhash.h>

/* The refs' key space among the store's records. */
#define KEY_TAG                                                                                    \
    "\x03"                                                                                         \
    "report:"
#define MAX_ID 64

typedef struct kept {
    uint64_t pipeline; /* XXH3 of its name */
    uint64_t ids[VD_DECISION_CAMPAIGNS];
    uint8_t kinds[VD_DECISION_CAMPAIGNS];
    uint8_t n;
} kept_t;

typedef struct call {
    const vd_campaign_ref_t *in;
    vd_campaign_ref_t *out;
    int n;
    uint64_t pipeline;
} call_t;

static int on_record(void *ud, void *payload, int made) {
    call_t *c = ud;
    kept_t *k = payload;
    (void)made;
    if (!k) return VD_ENOTFOUND;
    if (c->in) {
        memset(k, 0, sizeof *k);
        k->pipeline = c->pipeline;
        for (int i = 0; i < c->n; i++) {
            k->ids[i] = c->in[i].id;
            k->kinds[i] = (uint8_t)c->in[i].kind;
        }
        k->n = (uint8_t)c->n;
        return 0;
    }
    if (k->n > VD_DECISION_CAMPAIGNS) return VD_ENOTFOUND; /* a damaged snapshot's record */
    for (int i = 0; i < k->n; i++)
        if (k->kinds[i] >= VD_CAMPAIGN_KINDS) return VD_ENOTFOUND;
    if (k->pipeline != c->pipeline) return c->n = -2, 0;
    c->n = k->n;
    for (int i = 0; i < c->n; i++)
        c->out[i] = (vd_campaign_ref_t){k->ids[i], k->kinds[i]};
    return 0;
}

static int with_record(vd_store_t *s, const char *id, size_t len, int create, call_t *c) {
    if (len > MAX_ID) return VD_ENOTFOUND;
    char key[sizeof KEY_TAG + MAX_ID];
    memcpy(key, KEY_TAG, sizeof KEY_TAG - 1);
    memcpy(key + sizeof KEY_TAG - 1, id, len);
    return vd_store_record(s, key, sizeof KEY_TAG - 1 + len, sizeof(kept_t), create, on_record, c);
}

int vd_report_refs_keep(vd_store_t *s, const char *id, size_t len, const char *pipeline,
                        const vd_campaign_ref_t *refs, int n) {
    call_t c = {.in = refs,
                .n = n < VD_DECISION_CAMPAIGNS ? n : VD_DECISION_CAMPAIGNS,
                .pipeline = XXH3_64bits(pipeline, strlen(pipeline))};
    return with_record(s, id, len, 1, &c);
}

int vd_report_refs_find(vd_store_t *s, const char *id, size_t len, const char *pipeline,
                        size_t plen, vd_campaign_ref_t refs[VD_DECISION_CAMPAIGNS]) {
    call_t c = {.out = refs, .pipeline = XXH3_64bits(pipeline, plen)};
    return with_record(s, id, len, 0, &c) == 0 ? c.n : -1;
}
