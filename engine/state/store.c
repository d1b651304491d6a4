#include "store.h"

#include "base/clock.h"
#include "base/error.h"
#include "base/lru.h"

#include <assert.h>
#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <xxhash.h>

#define SHARDS   VD_STORE_SHARDS
#define BUCKETS  VD_STORE_BUCKETS
#define HLL_BITS 10
#define HLL_REGS VD_STORE_HLL_REGS

_Static_assert(HLL_REGS == 1 << HLL_BITS, "registers are indexed by the hash's top bits");
_Static_assert(VD_STORE_HLL_RANK == 64 - HLL_BITS + 1, "the rank of the hash's other bits");

const int64_t vd_window_seconds[VD_WINDOWS] = {60, 3600, 86400};
const char *const vd_window_names[VD_WINDOWS] = {"1m", "1h", "24h"};
const char *const vd_store_kind_names[VD_STORE_KINDS] = {"counter", "distinct", "label", "record"};

enum {
    COUNTER = VD_STORE_COUNTER,
    DISTINCT = VD_STORE_DISTINCT,
    LABEL = VD_STORE_LABEL,
    RECORD = VD_STORE_RECORD /* fixed-size payloads a module above gives meaning to */
};
enum { CURSOR = 0xff }; /* a walk's place in a recency list; never in the hash table */

/* The key comes right after the header, so a lookup touches one cache line when the key is
 * short; the windows (counters) or the registers (distinct counts) follow it. */
typedef struct entry {
    struct entry *next; /* hash chain */
    uint64_t hash;
    uint32_t keylen;
    uint8_t type;
    uint8_t referenced; /* used since it was last considered for eviction */
    uint16_t walked;    /* the last walk that visited it, or the shard's when it was made */
    int64_t expires;    /* 0: never */
    struct entry *newer, *older; /* recency list, kept approximately (second chance) */
    uint32_t size;               /* bytes counted against the cap */
    char key[];                  /* keylen bytes, padded to 8, then the payload */
} entry_t;

/* Where the payload starts, from the entry's own address: after the key, 8-aligned. */
static size_t payload_offset(size_t keylen) {
    return (offsetof(entry_t, key) + keylen + 7) & ~(size_t)7;
}

static vd_store_window_t *windows(entry_t *e) {
    return (vd_store_window_t *)(void *)((char *)e + payload_offset(e->keylen));
}

/* A distinct count keeps the sum the estimate needs up to date, so that reading it costs
 * nothing next to the 1,024 registers. */
typedef struct hll {
    double sum;     /* sum of 2^-register */
    uint32_t zeros; /* registers still 0 */
    uint8_t regs[HLL_REGS];
} hll_t;

static hll_t *hll(entry_t *e) {
    return (hll_t *)(void *)((char *)e + payload_offset(e->keylen));
}

typedef struct shard {
    pthread_mutex_t lock;
    entry_t **table;
    size_t cap, n, bytes;
    entry_t *newest, *oldest;
    entry_t *cursor; /* where a walk is in the recency list, or NULL */
    uint16_t walk;   /* the walk that last came here: entries made since are not its */
    uint64_t evictions, expired;
    vd_store_kind_stats_t kinds[VD_STORE_KINDS]; /* the same four figures by kind */
} shard_t;

struct vd_store {
    shard_t shards[SHARDS];
    size_t shard_bytes;
    atomic_int walking;
    uint16_t walks; /* numbers the walks, 0 skipped; only the walking thread writes it */
};

vd_store_t *vd_store_new(size_t max_bytes) {
    vd_store_t *s = calloc(1, sizeof *s);
    if (!s) return NULL;
    s->shard_bytes = max_bytes / SHARDS;
    for (int i = 0; i < SHARDS; i++) {
        pthread_mutex_init(&s->shards[i].lock, NULL);
        s->shards[i].cap = 64;
        if (!(s->shards[i].table = calloc(64, sizeof(entry_t *)))) {
            vd_store_free(s);
            return NULL;
        }
    }
    return s;
}

void vd_store_free(vd_store_t *s) {
    if (!s) return;
    assert(!atomic_load(&s->walking)); /* a walk's cursors are in the lists */
    for (int i = 0; i < SHARDS; i++) {
        shard_t *sh = &s->shards[i];
        for (entry_t *e = sh->newest, *next; e; e = next) {
            next = e->older;
            free(e);
        }
        free(sh->table);
        pthread_mutex_destroy(&sh->lock);
    }
    free(s);
}

void vd_store_clear(vd_store_t *s) {
    assert(!atomic_load(&s->walking));
    for (int i = 0; i < SHARDS; i++) {
        shard_t *sh = &s->shards[i];
        pthread_mutex_lock(&sh->lock);
        for (entry_t *e = sh->newest, *next; e; e = next) {
            next = e->older;
            free(e);
        }
        memset(sh->table, 0, sh->cap * sizeof *sh->table);
        sh->newest = sh->oldest = NULL;
        sh->n = sh->bytes = 0;
        for (int k = 0; k < VD_STORE_KINDS; k++)
            sh->kinds[k].entries = sh->kinds[k].bytes = 0;
        pthread_mutex_unlock(&sh->lock);
    }
}

static void lru_unlink(shard_t *sh, entry_t *e) {
    VD_LRU_UNLINK(sh, e);
}

static void lru_push(shard_t *sh, entry_t *e) {
    VD_LRU_PUSH(sh, e);
}

static void remove_entry(shard_t *sh, entry_t *e) {
    entry_t **p = &sh->table[e->hash & (sh->cap - 1)];
    while (*p != e)
        p = &(*p)->next;
    *p = e->next;
    lru_unlink(sh, e);
    sh->n--;
    sh->bytes -= e->size;
    sh->kinds[e->type].entries--;
    sh->kinds[e->type].bytes -= e->size;
    free(e);
}

static void grow(shard_t *sh) {
    size_t cap = sh->cap * 2;
    entry_t **table = calloc(cap, sizeof *table);
    if (!table) return; /* longer chains, still correct */
    for (size_t i = 0; i < sh->cap; i++) {
        for (entry_t *e = sh->table[i], *next; e; e = next) {
            next = e->next;
            e->next = table[e->hash & (cap - 1)];
            table[e->hash & (cap - 1)] = e;
        }
    }
    free(sh->table);
    sh->table = table;
    sh->cap = cap;
}

/* Past the cap, drops the oldest entries; one used since it was last looked at gets a second
 * chance at the young end instead (an approximate LRU that needs no work on lookups). */
static void evict(vd_store_t *s, shard_t *sh, entry_t *keep) {
    while (sh->bytes > s->shard_bytes) {
        entry_t *old = sh->oldest;
        if (old && old == sh->cursor) old = old->newer; /* a walk's place is not an entry */
        if (!old || old == keep) break;
        if (old->referenced) {
            old->referenced = 0;
            lru_unlink(sh, old);
            lru_push(sh, old);
            continue;
        }
        sh->evictions++;
        sh->kinds[old->type].evictions++;
        remove_entry(sh, old);
    }
}

/* Finds (or with create, makes) the entry; expired entries are dropped on the way. The
 * shard's lock is held by the caller. */
static entry_t *lookup_sized(vd_store_t *s, shard_t *sh, uint64_t h, int type, const char *key,
                             size_t len, int64_t now, int create, size_t record, int *made) {
    for (entry_t *e = sh->table[h & (sh->cap - 1)]; e; e = e->next) {
        if (e->hash != h || e->type != type || e->keylen != len || memcmp(e->key, key, len) != 0)
            continue;
        if (e->expires && now >= e->expires) {
            sh->expired++;
            sh->kinds[e->type].expired++;
            remove_entry(sh, e);
            break;
        }
        e->referenced = 1; /* no list surgery on the hot path: see evict() */
        return e;
    }
    if (!create) return NULL;
    if (made) *made = 1;
    size_t extra = type == DISTINCT  ? sizeof(hll_t)
                   : type == COUNTER ? sizeof(vd_store_window_t) * VD_WINDOWS
                   : type == RECORD  ? record
                                     : 0;
    size_t size = payload_offset(len) + extra;
    entry_t *e = calloc(1, size);
    if (!e) return NULL;
    e->hash = h;
    e->type = (uint8_t)type;
    e->keylen = (uint32_t)len;
    e->size = (uint32_t)size;
    e->walked = sh->walk; /* a walk in this shard now leaves it out: it did not exist before */
    memcpy(e->key, key, len);
    if (type == DISTINCT) {
        hll(e)->sum = HLL_REGS; /* every register 0: 2^0 each */
        hll(e)->zeros = HLL_REGS;
    }
    e->next = sh->table[h & (sh->cap - 1)];
    sh->table[h & (sh->cap - 1)] = e;
    lru_push(sh, e);
    sh->n++;
    sh->bytes += size;
    sh->kinds[type].entries++;
    sh->kinds[type].bytes += size;
    evict(s, sh, e);
    if (sh->n > sh->cap) grow(sh); /* short chains: one pointer chase per lookup */
    return e;
}

static entry_t *lookup(vd_store_t *s, shard_t *sh, uint64_t h, int type, const char *key,
                       size_t len, int64_t now, int create) {
    return lookup_sized(s, sh, h, type, key, len, now, create, 0, NULL);
}

static shard_t *shard_of(vd_store_t *s, uint64_t h) {
    return &s->shards[(h >> 58) % SHARDS];
}

/* Adds n to window w at time now (moving the window forward first) and returns its total. A
 * read (n = 0) does not move the window: it only leaves out buckets that have aged out. */
static uint64_t count_window(vd_store_window_t *win, int w, uint32_t n, int64_t now) {
    uint32_t epoch = (uint32_t)(now / (vd_window_seconds[w] / BUCKETS));
    uint32_t age = epoch - win->head; /* buckets the window is behind (wraps safely) */
    if (n && age) {
        for (uint32_t k = 1; k <= age && k <= BUCKETS; k++)
            win->count[(win->head + k) % BUCKETS] = 0;
        win->head = epoch;
        age = 0;
    }
    if (n) {
        uint32_t *c = &win->count[epoch % BUCKETS];
        *c = *c > UINT32_MAX - n ? UINT32_MAX : *c + n;
    }
    uint64_t sum = 0;
    for (uint32_t k = age; k < BUCKETS; k++) /* the buckets still inside the window */
        sum += win->count[(win->head + BUCKETS - (k - age)) % BUCKETS];
    return sum;
}

int vd_store_count(vd_store_t *s, const char *key, size_t len, uint32_t n, int64_t now,
                   uint64_t counts[VD_WINDOWS]) {
    uint64_t h = XXH3_64bits(key, len);
    shard_t *sh = shard_of(s, h);
    pthread_mutex_lock(&sh->lock);
    entry_t *e = lookup(s, sh, h, COUNTER, key, len, now, n > 0);
    for (int w = 0; w < VD_WINDOWS; w++)
        counts[w] = e ? count_window(&windows(e)[w], w, n, now) : 0;
    if (e && n) /* a counter idle for longer than its longest window holds nothing */
        e->expires =
            now + vd_window_seconds[VD_WINDOWS - 1] + vd_window_seconds[VD_WINDOWS - 1] / BUCKETS;
    pthread_mutex_unlock(&sh->lock);
    return e || n == 0 ? 0 : VD_ENOMEM;
}

static double hll_estimate(const hll_t *h) {
    double m = HLL_REGS, alpha = 0.7213 / (1.0 + 1.079 / m);
    double est = alpha * m * m / h->sum;
    if (est <= 2.5 * m && h->zeros) est = m * log(m / h->zeros); /* small range: linear counting */
    return est;
}

static void hll_add(hll_t *h, uint64_t v) {
    uint32_t idx = (uint32_t)(v >> (64 - HLL_BITS));
    uint64_t rest = v << HLL_BITS;
    uint8_t rho = rest ? (uint8_t)(__builtin_clzll(rest) + 1) : (uint8_t)(64 - HLL_BITS + 1);
    uint8_t old = h->regs[idx];
    if (rho <= old) return;
    h->sum += ldexp(1.0, -rho) - ldexp(1.0, -old);
    h->zeros -= old == 0;
    h->regs[idx] = rho;
}

int vd_store_distinct(vd_store_t *s, const char *key, size_t len, const char *value, size_t vlen,
                      int64_t now, int64_t ttl, double *estimate) {
    uint64_t h = XXH3_64bits(key, len);
    shard_t *sh = shard_of(s, h);
    pthread_mutex_lock(&sh->lock);
    entry_t *e = lookup(s, sh, h, DISTINCT, key, len, now, value != NULL);
    if (e && value) {
        hll_add(hll(e), XXH3_64bits(value, vlen));
        e->expires = ttl > 0 ? now + ttl : 0;
    }
    *estimate = e ? hll_estimate(hll(e)) : 0.0;
    pthread_mutex_unlock(&sh->lock);
    return e || !value ? 0 : VD_ENOMEM;
}

int vd_store_label(vd_store_t *s, const char *key, size_t len, int64_t now, int64_t ttl) {
    uint64_t h = XXH3_64bits(key, len);
    shard_t *sh = shard_of(s, h);
    pthread_mutex_lock(&sh->lock);
    entry_t *e = lookup(s, sh, h, LABEL, key, len, now, ttl > 0);
    int rc = 0;
    if (e && ttl > 0)
        e->expires = now + ttl;
    else if (e)
        remove_entry(sh, e);
    else if (ttl > 0)
        rc = VD_ENOMEM;
    pthread_mutex_unlock(&sh->lock);
    return rc;
}

int64_t vd_store_label_ttl(vd_store_t *s, const char *key, size_t len, int64_t now) {
    uint64_t h = XXH3_64bits(key, len);
    shard_t *sh = shard_of(s, h);
    pthread_mutex_lock(&sh->lock);
    entry_t *e = lookup(s, sh, h, LABEL, key, len, now, 0);
    int64_t left = e ? e->expires - now : 0;
    pthread_mutex_unlock(&sh->lock);
    return left > 0 ? left : 0;
}

int vd_store_record(vd_store_t *s, const char *key, size_t len, size_t size, int create,
                    vd_store_record_fn fn, void *ud) {
    if (size > VD_STORE_MAX_RECORD) return VD_EINVAL;
    uint64_t h = XXH3_64bits(key, len);
    shard_t *sh = shard_of(s, h);
    pthread_mutex_lock(&sh->lock);
    int made = 0;
    entry_t *e = lookup_sized(s, sh, h, RECORD, key, len, 0, create, size, &made);
    if (e && e->size != payload_offset(len) + size) { /* another size (an old snapshot's) */
        remove_entry(sh, e);
        e = create ? lookup_sized(s, sh, h, RECORD, key, len, 0, 1, size, &made) : NULL;
    }
    int rc = create && !e ? VD_ENOMEM
                          : fn(ud, e ? (char *)e + payload_offset(e->keylen) : NULL, made && e);
    pthread_mutex_unlock(&sh->lock);
    return rc;
}

/* ---- an operator's changes ---- */

size_t vd_store_seed_value(uint32_t i, char *out) {
    /* A control character first: no value a rule takes from an event looks like it. */
    return (size_t)snprintf(out, 24, "\x1fseed:%u", i);
}

/* What an entry holds at now, as a state operation reports it (no entry: nothing). */
static void entry_values(entry_t *e, int type, int64_t now, int64_t out[VD_WINDOWS]) {
    memset(out, 0, VD_WINDOWS * sizeof *out);
    if (type == LABEL) out[0] = e && e->expires > now ? e->expires - now : -1;
    if (!e) return;
    if (type == DISTINCT) out[0] = (int64_t)(hll_estimate(hll(e)) + 0.5);
    for (int w = 0; type == COUNTER && w < VD_WINDOWS; w++)
        out[w] = (int64_t)count_window(&windows(e)[w], w, 0, now);
}

/* Fills a new entry with what vd_store_replace puts there. */
static void fill_replacement(entry_t *e, uint32_t n, int64_t now, int64_t ttl) {
    const int64_t day = vd_window_seconds[VD_WINDOWS - 1];
    char seed[24];
    switch (e->type) {
    case COUNTER:
        for (int w = 0; w < VD_WINDOWS; w++)
            count_window(&windows(e)[w], w, n, now);
        e->expires = now + day + day / BUCKETS; /* as an addition would */
        break;
    case DISTINCT:
        for (uint32_t i = 0; i < n; i++)
            hll_add(hll(e), XXH3_64bits(seed, vd_store_seed_value(i, seed)));
        e->expires = ttl > 0 ? now + ttl : 0;
        break;
    default:
        e->expires = now + n;
    }
}

int vd_store_replace(vd_store_t *s, vd_store_kind_t kind, const char *key, size_t len, uint32_t n,
                     int64_t now, int64_t ttl, int64_t old[VD_WINDOWS], int64_t cur[VD_WINDOWS]) {
    if (kind == VD_STORE_DISTINCT && n > VD_STORE_MAX_SEEDS) return VD_EINVAL;
    uint64_t h = XXH3_64bits(key, len);
    shard_t *sh = shard_of(s, h);
    pthread_mutex_lock(&sh->lock);
    entry_t *e = lookup(s, sh, h, (int)kind, key, len, now, 0);
    entry_values(e, (int)kind, now, old);
    if (e) remove_entry(sh, e); /* a new one starts from nothing */
    e = n ? lookup(s, sh, h, (int)kind, key, len, now, 1) : NULL;
    if (e) fill_replacement(e, n, now, ttl);
    entry_values(e, (int)kind, now, cur);
    pthread_mutex_unlock(&sh->lock);
    return n && !e ? VD_ENOMEM : 0;
}

void vd_store_stats(vd_store_t *s, vd_store_stats_t *out) {
    memset(out, 0, sizeof *out);
    for (int i = 0; i < SHARDS; i++) {
        shard_t *sh = &s->shards[i];
        pthread_mutex_lock(&sh->lock);
        out->entries += sh->n;
        out->bytes += sh->bytes;
        out->evictions += sh->evictions;
        out->expired += sh->expired;
        for (int k = 0; k < VD_STORE_KINDS; k++) {
            out->kinds[k].entries += sh->kinds[k].entries;
            out->kinds[k].bytes += sh->kinds[k].bytes;
            out->kinds[k].evictions += sh->kinds[k].evictions;
            out->kinds[k].expired += sh->kinds[k].expired;
        }
        pthread_mutex_unlock(&sh->lock);
    }
}

/* A distinct count's running sum and zero count, from its registers (a snapshot loads
 * thousands of them: one ldexp per possible value, not per register). */
static void hll_recount(hll_t *h) {
    double pow2[VD_STORE_HLL_RANK + 1];
    for (int r = 0; r <= VD_STORE_HLL_RANK; r++)
        pow2[r] = ldexp(1.0, -r);
    h->sum = 0;
    h->zeros = 0;
    for (int i = 0; i < HLL_REGS; i++) {
        h->sum += pow2[h->regs[i]];
        h->zeros += h->regs[i] == 0;
    }
}

int vd_store_restore(vd_store_t *s, const vd_store_item_t *it) {
    if (it->kind != VD_STORE_COUNTER && it->kind != VD_STORE_DISTINCT &&
        it->kind != VD_STORE_LABEL && it->kind != VD_STORE_RECORD)
        return VD_EINVAL;
    if (it->kind == VD_STORE_RECORD && (!it->payload || it->payload_len > VD_STORE_MAX_RECORD))
        return VD_EINVAL;
    for (int i = 0; it->kind == VD_STORE_DISTINCT && i < HLL_REGS; i++)
        if (it->regs[i] > VD_STORE_HLL_RANK) return VD_EINVAL;
    uint64_t h = XXH3_64bits(it->key, it->keylen);
    shard_t *sh = shard_of(s, h);
    pthread_mutex_lock(&sh->lock);
    /* now = 0: an entry already there is replaced, whatever its expiry */
    entry_t *e =
        lookup_sized(s, sh, h, (int)it->kind, it->key, it->keylen, 0, 1, it->payload_len, NULL);
    if (e && e->type == RECORD && e->size != payload_offset(it->keylen) + it->payload_len) {
        remove_entry(sh, e); /* one of another size: the file's replaces it */
        e = lookup_sized(s, sh, h, RECORD, it->key, it->keylen, 0, 1, it->payload_len, NULL);
    }
    if (e) {
        e->expires = it->expires;
        if (e->type == RECORD)
            memcpy((char *)e + payload_offset(e->keylen), it->payload, it->payload_len);
        if (e->type == COUNTER) memcpy(windows(e), it->windows, sizeof it->windows);
        if (e->type == DISTINCT) {
            memcpy(hll(e)->regs, it->regs, HLL_REGS);
            hll_recount(hll(e));
        }
        /* lookup() put a new entry at the young end; one that was there moves there too */
        lru_unlink(sh, e);
        lru_push(sh, e);
    }
    pthread_mutex_unlock(&sh->lock);
    return e ? 0 : VD_ENOMEM;
}

/* ---- walks: a snapshot's way through the store ---- */

struct vd_store_walk {
    vd_store_t *store;
    int64_t now;
    uint16_t id;
    int next, left;           /* the shard of the next step; shards not finished */
    entry_t *cursors[SHARDS]; /* NULL once the shard is finished */
    int64_t longest_hold_ns;
};

static void insert_before(shard_t *sh, entry_t *c, entry_t *e) {
    c->newer = e;
    c->older = e ? e->older : sh->newest;
    if (c->older)
        c->older->newer = c;
    else
        sh->oldest = c;
    if (e)
        e->older = c;
    else
        sh->newest = c;
}

int vd_store_walk_new(vd_store_t *s, int64_t now, vd_store_walk_t **out) {
    int idle = 0;
    if (!atomic_compare_exchange_strong(&s->walking, &idle, 1)) return VD_EBUSY;
    vd_store_walk_t *w = calloc(1, sizeof *w);
    for (int i = 0; w && i < SHARDS; i++) {
        if (!(w->cursors[i] = calloc(1, sizeof(entry_t)))) break;
        w->cursors[i]->type = CURSOR;
        w->left++;
    }
    if (!w || w->left < SHARDS) {
        for (int i = 0; w && i < w->left; i++)
            free(w->cursors[i]);
        free(w);
        atomic_store(&s->walking, 0);
        return VD_ENOMEM;
    }
    w->store = s;
    w->now = now;
    if (++s->walks == 0) s->walks = 1; /* 0 is what entries of a store never walked carry */
    w->id = s->walks;
    for (int i = 0; i < SHARDS; i++) { /* from now on, new entries are not this walk's */
        shard_t *sh = &s->shards[i];
        pthread_mutex_lock(&sh->lock);
        sh->walk = w->id;
        sh->cursor = w->cursors[i];
        insert_before(sh, w->cursors[i], sh->oldest);
        pthread_mutex_unlock(&sh->lock);
    }
    *out = w;
    return 0;
}

static void fill_item(entry_t *e, vd_store_item_t *it) {
    it->kind = (vd_store_kind_t)e->type;
    it->key = e->key;
    it->keylen = e->keylen;
    it->expires = e->expires;
    it->regs = e->type == DISTINCT ? hll(e)->regs : NULL;
    it->payload = e->type == RECORD ? (char *)e + payload_offset(e->keylen) : NULL;
    it->payload_len = e->type == RECORD ? (uint32_t)(e->size - payload_offset(e->keylen)) : 0;
    if (e->type == COUNTER) memcpy(it->windows, windows(e), sizeof it->windows);
}

/* Visits up to max entries after the cursor of shard i, then moves the cursor past them. The
 * shard's lock is held. An entry already visited that eviction gives a second chance (at the
 * young end, past the cursor) is met again and skipped: it carries this walk's number. */
static int walk_shard(vd_store_walk_t *w, shard_t *sh, int i, size_t max, vd_store_visit_fn visit,
                      void *ud) {
    entry_t *c = w->cursors[i], *e;
    int rc = 0;
    vd_store_item_t it;
    size_t n = 0;
    for (e = c->newer; e && n < max && rc == 0; e = e->newer, n++) {
        if (e->walked == w->id || (e->expires && w->now >= e->expires)) continue;
        e->walked = w->id;
        fill_item(e, &it);
        rc = visit(ud, &it);
    }
    lru_unlink(sh, c);
    if (e) {
        insert_before(sh, c, e);
    } else {
        sh->cursor = NULL;
        w->cursors[i] = NULL;
        free(c);
        w->left--;
    }
    return rc;
}

int vd_store_walk_step(vd_store_walk_t *w, size_t max, vd_store_visit_fn visit, void *ud) {
    if (w->left == 0) return 0;
    int i = w->next;
    while (!w->cursors[i])
        i = (i + 1) % SHARDS;
    w->next = (i + 1) % SHARDS; /* the next step locks another shard: workers get this one */
    shard_t *sh = &w->store->shards[i];
    pthread_mutex_lock(&sh->lock);
    int64_t t0 = vd_now_ns();
    int rc = walk_shard(w, sh, i, max, visit, ud);
    int64_t held = vd_now_ns() - t0;
    pthread_mutex_unlock(&sh->lock);
    if (held > w->longest_hold_ns) w->longest_hold_ns = held;
    return rc ? rc : w->left > 0;
}

int64_t vd_store_walk_longest_hold_ns(const vd_store_walk_t *w) {
    return w->longest_hold_ns;
}

void vd_store_walk_free(vd_store_walk_t *w) {
    if (!w) return;
    for (int i = 0; i < SHARDS; i++) {
        if (!w->cursors[i]) continue;
        shard_t *sh = &w->store->shards[i];
        pthread_mutex_lock(&sh->lock);
        lru_unlink(sh, w->cursors[i]);
        sh->cursor = NULL;
        pthread_mutex_unlock(&sh->lock);
        free(w->cursors[i]);
    }
    atomic_store(&w->store->walking, 0);
    free(w);
}
