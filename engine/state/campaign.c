#include "campaign.h"

#include "base/error.h"
#include "base/lru.h"
#include "campaign_count.h"

#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <xxhash.h>

#define SHARDS         VD_CAMPAIGN_SHARDS
#define BANDS          VD_SKETCH_BANDS
#define TEXT           VD_CAMPAIGN_TEXT
#define FIELDS         VD_CAMPAIGN_FIELDS
#define KINDS          VD_CAMPAIGN_KINDS
#define HOUR           3600
#define MAX_CANDIDATES 16 /* campaigns a text is compared with, at most */
#define MEMBERS        3  /* members of a text campaign whose bands lead to it too */

const char *const vd_campaign_kind_names[VD_CAMPAIGN_KINDS] = {"text", "fields"};

/* What a text campaign adds: the sketch of its first text (what later texts are compared
 * with, so that a campaign cannot drift away from it), and the band keys of up to MEMBERS
 * later texts that differ from it. Those lead a new copy to the campaign when it shares no
 * band with the first text but does with a member (copies personalised heavily agree with
 * the first text on 17 to 24 values, and 4 of them in a row less often); the match is still
 * decided against the first text. A key of 0 is an empty slot. */
typedef struct text_part {
    vd_sketch_t sketch;
    uint64_t member_bands[MEMBERS][BANDS];
    uint8_t members;
} text_part_t;

/* One campaign. A text campaign owns one band entry per band of its first text and of its
 * members, counted in its size. */
typedef struct camp {
    struct camp *next;          /* hash chain */
    struct camp *newer, *older; /* recency list, kept approximately (second chance) */
    uint64_t id;
    uint64_t scope; /* text: the scope its bands are filed under */
    uint8_t kind;
    uint8_t referenced; /* used since it was last considered for eviction */
    uint32_t size_bytes;
    int64_t first_seen, last_seen, expires, window, ttl;
    uint64_t size;
    double bad, good;
    uint64_t reporters; /* a bitmap of reporters' hashes: linear counting, exact to a few */
    vd_campaign_ring_t recent, hour;
    vd_campaign_hll_t sources;
    text_part_t text[]; /* text only */
} camp_t;

/* An entry of the band index: band key -> campaign. Several campaigns may share a key. */
typedef struct band {
    struct band *next;
    uint64_t key, id;
} band_t;

typedef struct cshard {
    pthread_mutex_t lock;
    camp_t **table;
    size_t cap, n, bytes;
    camp_t *newest, *oldest;
    uint64_t entries[KINDS], bytes_k[KINDS], evictions[KINDS], expired[KINDS];
} cshard_t;

typedef struct bshard {
    pthread_mutex_t lock;
    band_t **table;
    size_t cap, n;
} bshard_t;

struct vd_campaigns {
    cshard_t shards[SHARDS];
    bshard_t bands[SHARDS];
    size_t shard_bytes;
    atomic_uint_fast64_t lookups[KINDS], matches[KINDS], created[KINDS], too_short;
};

/* ---- the band index (a band shard's lock is taken inside a campaign shard's, never the
 * other way round) ---- */

static bshard_t *bshard_of(vd_campaigns_t *c, uint64_t key) {
    return &c->bands[(key >> 58) % SHARDS];
}

static void band_grow(bshard_t *b) {
    size_t cap = b->cap * 2;
    band_t **t = calloc(cap, sizeof *t);
    if (!t) return; /* longer chains, still correct */
    for (size_t i = 0; i < b->cap; i++)
        for (band_t *e = b->table[i], *next; e; e = next) {
            next = e->next;
            e->next = t[e->key & (cap - 1)];
            t[e->key & (cap - 1)] = e;
        }
    free(b->table);
    b->table = t;
    b->cap = cap;
}

/* Adds the ids stored under key to ids (no duplicates, at most MAX_CANDIDATES). */
static void band_get(vd_campaigns_t *c, uint64_t key, uint64_t *ids, int *n) {
    bshard_t *b = bshard_of(c, key);
    pthread_mutex_lock(&b->lock);
    for (band_t *e = b->table[key & (b->cap - 1)]; e && *n < MAX_CANDIDATES; e = e->next) {
        if (e->key != key) continue;
        int seen = 0;
        for (int i = 0; i < *n && !seen; i++)
            seen = ids[i] == e->id;
        if (!seen) ids[(*n)++] = e->id;
    }
    pthread_mutex_unlock(&b->lock);
}

static int band_put(vd_campaigns_t *c, uint64_t key, uint64_t id) {
    bshard_t *b = bshard_of(c, key);
    band_t *e = malloc(sizeof *e);
    if (!e) return VD_ENOMEM;
    e->key = key;
    e->id = id;
    pthread_mutex_lock(&b->lock);
    e->next = b->table[key & (b->cap - 1)];
    b->table[key & (b->cap - 1)] = e;
    if (++b->n > b->cap) band_grow(b);
    pthread_mutex_unlock(&b->lock);
    return 0;
}

static void band_del(vd_campaigns_t *c, uint64_t key, uint64_t id) {
    bshard_t *b = bshard_of(c, key);
    pthread_mutex_lock(&b->lock);
    for (band_t **p = &b->table[key & (b->cap - 1)]; *p; p = &(*p)->next) {
        if ((*p)->key != key || (*p)->id != id) continue;
        band_t *e = *p;
        *p = e->next;
        free(e);
        b->n--;
        break;
    }
    pthread_mutex_unlock(&b->lock);
}

/* The band keys of a sketch within a scope. */
static void band_keys(const vd_sketch_t *sk, uint64_t scope, uint64_t keys[BANDS]) {
    for (int b = 0; b < BANDS; b++)
        keys[b] = vd_sketch_band(sk, b) ^ scope;
}

/* ---- campaigns ---- */

static cshard_t *shard_of(vd_campaigns_t *c, uint64_t id) {
    return &c->shards[(id >> 58) % SHARDS];
}

vd_campaigns_t *vd_campaigns_new(size_t max_bytes) {
    vd_campaigns_t *c = calloc(1, sizeof *c);
    if (!c) return NULL;
    c->shard_bytes = max_bytes / SHARDS;
    int ok = 1;
    for (int i = 0; i < SHARDS; i++) {
        pthread_mutex_init(&c->shards[i].lock, NULL);
        pthread_mutex_init(&c->bands[i].lock, NULL);
        c->shards[i].cap = c->bands[i].cap = 64;
        c->shards[i].table = calloc(64, sizeof(camp_t *));
        c->bands[i].table = calloc(64, sizeof(band_t *));
        ok = ok && c->shards[i].table && c->bands[i].table;
    }
    if (!ok) {
        vd_campaigns_free(c);
        return NULL;
    }
    return c;
}

static void lru_unlink(cshard_t *sh, camp_t *e) {
    VD_LRU_UNLINK(sh, e);
}

static void lru_push(cshard_t *sh, camp_t *e) {
    VD_LRU_PUSH(sh, e);
}

static void remove_camp(vd_campaigns_t *c, cshard_t *sh, camp_t *e) {
    camp_t **p = &sh->table[e->id & (sh->cap - 1)];
    while (*p != e)
        p = &(*p)->next;
    *p = e->next;
    if (e->kind == TEXT) {
        uint64_t keys[BANDS];
        band_keys(&e->text->sketch, e->scope, keys);
        for (int b = 0; b < BANDS; b++)
            band_del(c, keys[b], e->id);
        for (int m = 0; m < e->text->members; m++)
            for (int b = 0; b < BANDS; b++)
                if (e->text->member_bands[m][b]) band_del(c, e->text->member_bands[m][b], e->id);
    }
    lru_unlink(sh, e);
    sh->n--;
    sh->bytes -= e->size_bytes;
    sh->entries[e->kind]--;
    sh->bytes_k[e->kind] -= e->size_bytes;
    free(e);
}

static void drop_all(vd_campaigns_t *c, cshard_t *sh) {
    while (sh->newest)
        remove_camp(c, sh, sh->newest);
}

void vd_campaigns_free(vd_campaigns_t *c) {
    if (!c) return;
    for (int i = 0; i < SHARDS; i++) /* first: campaigns remove their band entries */
        if (c->shards[i].table) drop_all(c, &c->shards[i]);
    for (int i = 0; i < SHARDS; i++) {
        free(c->shards[i].table);
        free(c->bands[i].table);
        pthread_mutex_destroy(&c->shards[i].lock);
        pthread_mutex_destroy(&c->bands[i].lock);
    }
    free(c);
}

void vd_campaigns_clear(vd_campaigns_t *c) {
    for (int i = 0; i < SHARDS; i++) {
        cshard_t *sh = &c->shards[i];
        pthread_mutex_lock(&sh->lock);
        drop_all(c, sh);
        pthread_mutex_unlock(&sh->lock);
    }
}

static void grow(cshard_t *sh) {
    size_t cap = sh->cap * 2;
    camp_t **t = calloc(cap, sizeof *t);
    if (!t) return; /* longer chains, still correct */
    for (size_t i = 0; i < sh->cap; i++)
        for (camp_t *e = sh->table[i], *next; e; e = next) {
            next = e->next;
            e->next = t[e->id & (cap - 1)];
            t[e->id & (cap - 1)] = e;
        }
    free(sh->table);
    sh->table = t;
    sh->cap = cap;
}

/* Past the cap, drops the coldest campaigns (one used since it was last looked at gets a
 * second chance at the young end), and the oldest one when it has expired anyway. */
static void evict(vd_campaigns_t *c, cshard_t *sh, camp_t *keep, int64_t now) {
    camp_t *old = sh->oldest;
    if (old && old != keep && now >= old->expires) {
        sh->expired[old->kind]++;
        remove_camp(c, sh, old);
    }
    while (sh->bytes > c->shard_bytes) {
        old = sh->oldest;
        if (!old || old == keep) break;
        if (old->referenced) {
            old->referenced = 0;
            lru_unlink(sh, old);
            lru_push(sh, old);
            continue;
        }
        sh->evictions[old->kind]++;
        remove_camp(c, sh, old);
    }
}

/* The campaign id of kind, or NULL (an expired one is dropped on the way). Lock held. */
static camp_t *find(vd_campaigns_t *c, cshard_t *sh, uint64_t id, int kind, int64_t now) {
    for (camp_t *e = sh->table[id & (sh->cap - 1)]; e; e = e->next) {
        if (e->id != id || e->kind != kind) continue;
        if (now >= e->expires) {
            sh->expired[e->kind]++;
            remove_camp(c, sh, e);
            return NULL;
        }
        e->referenced = 1; /* no list surgery on the hot path: see evict() */
        return e;
    }
    return NULL;
}

int vd_campaign_limits(vd_campaign_kind_t kind, const vd_campaign_opts_t *o, int64_t *window,
                       int64_t *ttl) {
    *window = o->window ? o->window
                        : (kind == TEXT ? VD_CAMPAIGN_TEXT_WINDOW : VD_CAMPAIGN_FIELDS_WINDOW);
    if (*window < VD_CAMPAIGN_MIN_WINDOW || *window > VD_CAMPAIGN_MAX_WINDOW) return VD_EINVAL;
    *ttl = o->ttl ? o->ttl : (kind == TEXT ? VD_CAMPAIGN_TEXT_TTL : 2 * *window);
    if (*ttl < *window) *ttl = *window;
    return *ttl > VD_CAMPAIGN_MAX_WINDOW * 4 ? VD_EINVAL : 0;
}

/* A new campaign in shard sh (lock held), its bands filed. NULL when out of memory. */
static camp_t *create(vd_campaigns_t *c, cshard_t *sh, int kind, uint64_t id, uint64_t scope,
                      const vd_sketch_t *sk, int64_t window, int64_t ttl, int64_t now) {
    size_t extra = kind == TEXT ? sizeof(text_part_t) : 0;
    camp_t *e = calloc(1, sizeof *e + extra);
    if (!e) return NULL;
    e->id = id;
    e->kind = (uint8_t)kind;
    e->size_bytes = (uint32_t)(sizeof *e + extra + (kind == TEXT ? BANDS * sizeof(band_t) : 0));
    e->first_seen = e->last_seen = now;
    e->window = window;
    e->ttl = ttl;
    e->expires = now + ttl;
    if (kind == TEXT) {
        uint64_t keys[BANDS];
        e->text->sketch = *sk;
        e->scope = scope;
        band_keys(sk, scope, keys);
        for (int b = 0; b < BANDS; b++) {
            if (band_put(c, keys[b], id) == 0) continue;
            while (--b >= 0)
                band_del(c, keys[b], id);
            free(e);
            return NULL;
        }
    }
    e->next = sh->table[id & (sh->cap - 1)];
    sh->table[id & (sh->cap - 1)] = e;
    lru_push(sh, e);
    sh->n++;
    sh->bytes += e->size_bytes;
    sh->entries[kind]++;
    sh->bytes_k[kind] += e->size_bytes;
    evict(c, sh, e, now);
    if (sh->n > sh->cap) grow(sh); /* short chains: one pointer chase per lookup */
    return e;
}

/* About how many distinct reporters set bits of the bitmap (linear counting over 64 bits:
 * exact for a few, about 10% off from ten to a hundred, which is what a campaign's reports need
 * to tell one angry user from many). */
uint64_t vd_campaign_reporters(uint64_t bits) {
    int zeros = 64 - __builtin_popcountll(bits);
    if (zeros == 0) return 250; /* saturated: more than linear counting can tell */
    return (uint64_t)(64.0 * log(64.0 / zeros) + 0.5);
}

/* Counts the item in e (unless look_only) and fills the view. Lock held. */
static void touch(camp_t *e, const vd_campaign_opts_t *o, int64_t now, vd_campaign_view_t *v) {
    uint32_t add = !o->look_only;
    if (add) {
        e->size++;
        if (now > e->last_seen) e->last_seen = now;
        e->expires = e->last_seen + e->ttl;
        if (o->source)
            vd_campaign_hll_add(&e->sources, e->window / 2, XXH3_64bits(o->source, o->source_len),
                                now);
    }
    v->id = e->id;
    v->kind = (vd_campaign_kind_t)e->kind;
    v->size = e->size;
    v->recent = vd_campaign_ring_add(&e->recent, e->window / VD_CAMPAIGN_SLOTS, add, now);
    v->growth_1h = vd_campaign_ring_add(&e->hour, HOUR / VD_CAMPAIGN_SLOTS, add, now);
    v->sources = vd_campaign_hll_count(&e->sources, e->window / 2, now);
    v->first_seen = e->first_seen;
    v->last_seen = e->last_seen;
    v->window = e->window;
    v->bad = e->bad;
    v->good = e->good;
    v->reporters = vd_campaign_reporters(e->reporters);
}

static uint64_t scope_hash(const vd_campaign_opts_t *o) {
    return o->scope && o->scope_len ? XXH3_64bits(o->scope, o->scope_len) : 0;
}

/* The campaign among the candidate ids a text joins: of those it matches (more than half
 * of the sketch agrees), the largest, so that copies a first miss split off do not draw the
 * rest of a wave away from its main campaign; then the closest; then the smallest id, so
 * that the choice is the same every time. Returns its agreement (*best its id), or the best
 * agreement below a match (0 when there is no candidate). */
static int best_match(vd_campaigns_t *c, const uint64_t *ids, int n, const vd_sketch_t *sk,
                      uint64_t scope, int64_t now, uint64_t *best) {
    int top = 0;
    uint64_t top_size = 0;
    for (int i = 0; i < n; i++) {
        cshard_t *sh = shard_of(c, ids[i]);
        pthread_mutex_lock(&sh->lock);
        camp_t *e = find(c, sh, ids[i], TEXT, now);
        int a = e && e->scope == scope ? vd_sketch_agree(&e->text->sketch, sk) : 0;
        uint64_t size = e ? e->size : 0;
        pthread_mutex_unlock(&sh->lock);
        int match = a > VD_SKETCH_HASHES / 2, top_match = top > VD_SKETCH_HASHES / 2;
        int better = match != top_match          ? match
                     : match && size != top_size ? size > top_size
                     : a != top                  ? a > top
                                                 : a && ids[i] < *best;
        if (better) {
            top = a;
            top_size = size;
            *best = ids[i];
        }
    }
    return top;
}

/* Files the band keys of a text that joined e and differs from its first text, while e has
 * room for members: the keys the first text or an earlier member already has are left out.
 * The shard's lock is held (band locks are taken inside it, as everywhere). */
static void add_member(vd_campaigns_t *c, cshard_t *sh, camp_t *e, const uint64_t *keys,
                       int64_t now) {
    text_part_t *t = e->text;
    uint64_t first[BANDS];
    size_t added = 0;
    band_keys(&t->sketch, e->scope, first);
    for (int b = 0; b < BANDS; b++) {
        int known = keys[b] == first[b] || keys[b] == 0;
        for (int m = 0; m < t->members && !known; m++)
            known = t->member_bands[m][b] == keys[b];
        t->member_bands[t->members][b] = 0;
        if (known || band_put(c, keys[b], e->id) != 0) continue;
        t->member_bands[t->members][b] = keys[b];
        added++;
    }
    t->members++;
    e->size_bytes += (uint32_t)(added * sizeof(band_t));
    sh->bytes += added * sizeof(band_t);
    sh->bytes_k[TEXT] += added * sizeof(band_t);
    evict(c, sh, e, now);
}

/* Counts the item in campaign id when it is still there: 1, else 0. A text (keys: its band
 * keys; agree: its agreement with the first text) may become a member. */
static int join(vd_campaigns_t *c, uint64_t id, int kind, const vd_campaign_opts_t *o, int64_t now,
                const uint64_t *keys, int agree, vd_campaign_view_t *out) {
    cshard_t *sh = shard_of(c, id);
    pthread_mutex_lock(&sh->lock);
    camp_t *e = find(c, sh, id, kind, now);
    if (e) touch(e, o, now, out);
    if (e && keys && !o->look_only && agree < VD_SKETCH_HASHES && e->text->members < MEMBERS)
        add_member(c, sh, e, keys, now);
    pthread_mutex_unlock(&sh->lock);
    return e != NULL;
}

/* Joins campaign id or starts it. Returns 0 or VD_ENOMEM. */
static int join_or_create(vd_campaigns_t *c, int kind, uint64_t id, uint64_t scope,
                          const vd_sketch_t *sk, const vd_campaign_opts_t *o, int64_t window,
                          int64_t ttl, int64_t now, vd_campaign_view_t *out) {
    cshard_t *sh = shard_of(c, id);
    pthread_mutex_lock(&sh->lock);
    camp_t *e = find(c, sh, id, kind, now);
    out->created = !e;
    if (!e) e = create(c, sh, kind, id, scope, sk, window, ttl, now);
    if (e) touch(e, o, now, out);
    pthread_mutex_unlock(&sh->lock);
    if (e && out->created) atomic_fetch_add_explicit(&c->created[kind], 1, memory_order_relaxed);
    return e ? 0 : VD_ENOMEM;
}

void vd_campaign_text_names(const vd_sketch_t *sk, const vd_campaign_opts_t *o, uint64_t *id,
                            uint64_t bands[BANDS]) {
    uint64_t scope = scope_hash(o);
    *id = vd_sketch_digest(sk) ^ scope;
    band_keys(sk, scope, bands);
}

uint64_t vd_campaign_fields_id(uint64_t key, const vd_campaign_opts_t *o, int64_t window) {
    return XXH3_64bits_withSeed(&key, sizeof key, scope_hash(o) ^ (uint64_t)window);
}

int vd_campaign_reporter_bit(const char *reporter, size_t len) {
    return (int)(XXH3_64bits(reporter, len) >> 58);
}

void vd_campaigns_note_lookup(vd_campaigns_t *c, vd_campaign_kind_t kind, int matched,
                              int created) {
    atomic_fetch_add_explicit(&c->lookups[kind], 1, memory_order_relaxed);
    if (matched) atomic_fetch_add_explicit(&c->matches[kind], 1, memory_order_relaxed);
    if (created) atomic_fetch_add_explicit(&c->created[kind], 1, memory_order_relaxed);
}

int vd_campaign_text(vd_campaigns_t *c, const vd_sketch_t *sk, const vd_campaign_opts_t *o,
                     int64_t now, vd_campaign_view_t *out) {
    int64_t window, ttl;
    if (vd_campaign_limits(TEXT, o, &window, &ttl)) return VD_EINVAL;
    atomic_fetch_add_explicit(&c->lookups[TEXT], 1, memory_order_relaxed);
    memset(out, 0, sizeof *out);
    uint64_t scope = scope_hash(o), keys[BANDS], ids[MAX_CANDIDATES], best = 0;
    int n = 0;
    band_keys(sk, scope, keys);
    for (int b = 0; b < BANDS; b++)
        band_get(c, keys[b], ids, &n);
    int agree = best_match(c, ids, n, sk, scope, now, &best);
    if (agree > VD_SKETCH_HASHES / 2 && join(c, best, TEXT, o, now, keys, agree, out)) {
        out->agree = agree;
        atomic_fetch_add_explicit(&c->matches[TEXT], 1, memory_order_relaxed);
        return 0;
    }
    if (o->look_only) return VD_ENOTFOUND;
    out->agree = VD_SKETCH_HASHES;
    return join_or_create(c, TEXT, vd_sketch_digest(sk) ^ scope, scope, sk, o, window, ttl, now,
                          out);
}

int vd_campaign_fields(vd_campaigns_t *c, uint64_t key, const vd_campaign_opts_t *o, int64_t now,
                       vd_campaign_view_t *out) {
    int64_t window, ttl;
    if (vd_campaign_limits(FIELDS, o, &window, &ttl)) return VD_EINVAL;
    atomic_fetch_add_explicit(&c->lookups[FIELDS], 1, memory_order_relaxed);
    memset(out, 0, sizeof *out);
    out->agree = VD_SKETCH_HASHES;
    /* The window is part of the group: rules that watch the same fields over different
     * windows keep separate counts. */
    uint64_t id = vd_campaign_fields_id(key, o, window);
    if (o->look_only) {
        if (!join(c, id, FIELDS, o, now, NULL, 0, out)) return VD_ENOTFOUND;
    } else if (join_or_create(c, FIELDS, id, 0, NULL, o, window, ttl, now, out)) {
        return VD_ENOMEM;
    }
    if (!out->created) atomic_fetch_add_explicit(&c->matches[FIELDS], 1, memory_order_relaxed);
    return 0;
}

int vd_campaign_report(vd_campaigns_t *c, vd_campaign_kind_t kind, uint64_t id, int bad,
                       double weight, const char *reporter, size_t rlen, int64_t now,
                       vd_campaign_view_t *out) {
    if (!(weight > 0 && weight <= 1e6) || (unsigned)kind >= KINDS) return VD_EINVAL;
    cshard_t *sh = shard_of(c, id);
    pthread_mutex_lock(&sh->lock);
    camp_t *e = find(c, sh, id, (int)kind, now);
    if (e) {
        *(bad ? &e->bad : &e->good) += weight;
        /* the people who said spam: a "not spam" report takes weight away, not people */
        if (reporter && bad) e->reporters |= 1ULL << vd_campaign_reporter_bit(reporter, rlen);
        if (now + e->ttl > e->expires) e->expires = now + e->ttl; /* reported: kept */
        vd_campaign_opts_t look = {.look_only = 1};
        touch(e, &look, now, out);
    }
    pthread_mutex_unlock(&sh->lock);
    return e ? 0 : VD_ENOTFOUND;
}

int vd_campaign_inspect(vd_campaigns_t *c, vd_campaign_kind_t kind, uint64_t id, int drop,
                        int64_t now, vd_campaign_view_t *out) {
    if ((unsigned)kind >= KINDS) return VD_ENOTFOUND;
    memset(out, 0, sizeof *out);
    cshard_t *sh = shard_of(c, id);
    pthread_mutex_lock(&sh->lock);
    camp_t *e = find(c, sh, id, (int)kind, now);
    if (e) {
        vd_campaign_opts_t look = {.look_only = 1};
        touch(e, &look, now, out);
        out->agree = VD_SKETCH_HASHES;
        if (drop) remove_camp(c, sh, e);
    }
    pthread_mutex_unlock(&sh->lock);
    return e ? 0 : VD_ENOTFOUND;
}

/* ---- campaigns on disk ---- */

/* What a campaign is on disk: camp_t without its links, then its text part (texts only). */
typedef struct saved {
    uint32_t format; /* SAVED_FORMAT: a layout this build reads */
    uint8_t kind, referenced, pad[2];
    uint64_t id, scope, size, reporters;
    int64_t first_seen, last_seen, expires, window, ttl;
    double bad, good;
    vd_campaign_ring_t recent, hour;
    vd_campaign_hll_t sources;
} saved_t;

#define SAVED_FORMAT (0x43410000u | (uint32_t)sizeof(saved_t)) /* "CA" and the size */
#define TIME_MAX     INT64_C(253402300799) /* 9999-12-31: times past it are damage */

_Static_assert(sizeof(saved_t) + sizeof(text_part_t) <= VD_CAMPAIGN_SAVED_MAX,
               "a saved campaign fits what snapshot readers accept");

static size_t saved_len(int kind) {
    return sizeof(saved_t) + (kind == TEXT ? sizeof(text_part_t) : 0);
}

int vd_campaigns_save(vd_campaigns_t *c, int shard, int64_t now, vd_campaign_put_fn put, void *ud) {
    unsigned char buf[sizeof(saved_t) + sizeof(text_part_t)];
    cshard_t *sh = &c->shards[shard % SHARDS];
    int rc = 0;
    pthread_mutex_lock(&sh->lock);
    for (camp_t *e = sh->oldest; e && !rc; e = e->newer) {
        if (now >= e->expires) continue;
        saved_t sv;
        memset(&sv, 0, sizeof sv); /* padding included: the file's bytes are all known */
        sv.format = SAVED_FORMAT;
        sv.kind = e->kind;
        sv.referenced = e->referenced;
        sv.id = e->id;
        sv.scope = e->scope;
        sv.size = e->size;
        sv.reporters = e->reporters;
        sv.first_seen = e->first_seen;
        sv.last_seen = e->last_seen;
        sv.expires = e->expires;
        sv.window = e->window;
        sv.ttl = e->ttl;
        sv.bad = e->bad;
        sv.good = e->good;
        sv.recent = e->recent;
        sv.hour = e->hour;
        sv.sources = e->sources;
        memcpy(buf, &sv, sizeof sv);
        if (e->kind == TEXT) memcpy(buf + sizeof sv, e->text, sizeof(text_part_t));
        rc = put(ud, buf, saved_len(e->kind), e->expires);
    }
    pthread_mutex_unlock(&sh->lock);
    return rc;
}

int vd_campaigns_check_saved(const void *saved, size_t len) {
    saved_t sv;
    uint32_t format;
    if (len < sizeof format) return VD_EPROTO;
    memcpy(&format, saved, sizeof format);
    if (format != SAVED_FORMAT) return (format >> 16) == 0x4341u ? VD_ENOTFOUND : VD_EPROTO;
    if (len < sizeof sv) return VD_EPROTO;
    memcpy(&sv, saved, sizeof sv);
    if (sv.kind >= KINDS || len != saved_len(sv.kind)) return VD_EPROTO;
    int ok = sv.window >= VD_CAMPAIGN_MIN_WINDOW && sv.window <= VD_CAMPAIGN_MAX_WINDOW &&
             sv.ttl >= sv.window && sv.ttl <= 4 * VD_CAMPAIGN_MAX_WINDOW && sv.first_seen >= 0 &&
             sv.first_seen <= sv.last_seen && sv.last_seen <= TIME_MAX && sv.expires >= 0 &&
             sv.expires <= TIME_MAX && isfinite(sv.bad) && sv.bad >= 0 && isfinite(sv.good) &&
             sv.good >= 0 && (sv.kind == TEXT || sv.scope == 0);
    for (int g = 0; ok && g < 2; g++)
        for (int r = 0; ok && r < VD_CAMPAIGN_HLL; r++)
            ok = sv.sources.regs[g][r] <= VD_CAMPAIGN_RANK_MAX;
    if (ok && sv.kind == TEXT) {
        text_part_t t;
        memcpy(&t, (const unsigned char *)saved + sizeof sv, sizeof t);
        ok = t.members <= MEMBERS;
    }
    return ok ? 0 : VD_EPROTO;
}

/* Files the bands of a restored text campaign (its first text's and its members'); undoes
 * them and returns VD_ENOMEM when one cannot be filed. The shard's lock is held. */
static int file_bands(vd_campaigns_t *c, camp_t *e) {
    uint64_t keys[(MEMBERS + 1) * BANDS];
    int n = 0;
    band_keys(&e->text->sketch, e->scope, keys);
    n = BANDS;
    for (int m = 0; m < e->text->members; m++)
        for (int b = 0; b < BANDS; b++)
            if (e->text->member_bands[m][b]) keys[n++] = e->text->member_bands[m][b];
    for (int i = 0; i < n; i++) {
        if (band_put(c, keys[i], e->id) == 0) continue;
        while (--i >= 0)
            band_del(c, keys[i], e->id);
        return VD_ENOMEM;
    }
    e->size_bytes += (uint32_t)(n * sizeof(band_t));
    return 0;
}

int vd_campaigns_restore(vd_campaigns_t *c, const void *saved, size_t len, int64_t now) {
    int rc = vd_campaigns_check_saved(saved, len);
    if (rc) return rc;
    saved_t sv;
    memcpy(&sv, saved, sizeof sv);
    if (now >= sv.expires) return VD_ENOTFOUND;
    /* A campaign written before now lives at most its ttl from then (a day of slack for a
     * clock set back): one that would outlive that is damage, kept no longer than that. */
    if (sv.expires > now + sv.ttl + 86400) sv.expires = now + sv.ttl;
    cshard_t *sh = shard_of(c, sv.id);
    pthread_mutex_lock(&sh->lock);
    camp_t *e = find(c, sh, sv.id, sv.kind, now);
    if (e) {
        pthread_mutex_unlock(&sh->lock);
        return VD_ENOTFOUND;
    }
    size_t extra = sv.kind == TEXT ? sizeof(text_part_t) : 0;
    if (!(e = calloc(1, sizeof *e + extra))) {
        pthread_mutex_unlock(&sh->lock);
        return VD_ENOMEM;
    }
    *e = (camp_t){.id = sv.id,
                  .scope = sv.scope,
                  .kind = sv.kind,
                  .referenced = sv.referenced,
                  .size_bytes = (uint32_t)(sizeof *e + extra),
                  .first_seen = sv.first_seen,
                  .last_seen = sv.last_seen,
                  .expires = sv.expires,
                  .window = sv.window,
                  .ttl = sv.ttl,
                  .size = sv.size,
                  .bad = sv.bad,
                  .good = sv.good,
                  .reporters = sv.reporters,
                  .recent = sv.recent,
                  .hour = sv.hour,
                  .sources = sv.sources};
    if (sv.kind == TEXT) {
        memcpy(e->text, (const unsigned char *)saved + sizeof sv, sizeof(text_part_t));
        if (file_bands(c, e) != 0) {
            free(e);
            pthread_mutex_unlock(&sh->lock);
            return VD_ENOMEM;
        }
    }
    e->next = sh->table[e->id & (sh->cap - 1)];
    sh->table[e->id & (sh->cap - 1)] = e;
    lru_push(sh, e);
    sh->n++;
    sh->bytes += e->size_bytes;
    sh->entries[e->kind]++;
    sh->bytes_k[e->kind] += e->size_bytes;
    evict(c, sh, e, now);
    if (sh->n > sh->cap) grow(sh);
    pthread_mutex_unlock(&sh->lock);
    return 0;
}

void vd_campaigns_note_short(vd_campaigns_t *c) {
    atomic_fetch_add_explicit(&c->too_short, 1, memory_order_relaxed);
}

void vd_campaigns_stats(vd_campaigns_t *c, vd_campaign_stats_t out[VD_CAMPAIGN_KINDS]) {
    memset(out, 0, KINDS * sizeof *out);
    for (int i = 0; i < SHARDS; i++) {
        cshard_t *sh = &c->shards[i];
        pthread_mutex_lock(&sh->lock);
        for (int k = 0; k < KINDS; k++) {
            out[k].entries += sh->entries[k];
            out[k].bytes += sh->bytes_k[k];
            out[k].evictions += sh->evictions[k];
            out[k].expired += sh->expired[k];
        }
        pthread_mutex_unlock(&sh->lock);
    }
    for (int k = 0; k < KINDS; k++) {
        out[k].lookups = atomic_load_explicit(&c->lookups[k], memory_order_relaxed);
        out[k].matches = atomic_load_explicit(&c->matches[k], memory_order_relaxed);
        out[k].created = atomic_load_explicit(&c->created[k], memory_order_relaxed);
    }
    out[TEXT].too_short = atomic_load_explicit(&c->too_short, memory_order_relaxed);
}
