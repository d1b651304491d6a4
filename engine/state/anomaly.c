#include "anomaly.h"

#include "base/error.h"

#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <xxhash.h>

#define SHARDS VD_ANOMALY_SHARDS

typedef struct entry {
    struct entry *next;          /* hash chain */
    struct entry *newer, *older; /* recency list: the oldest is evicted first */
    uint64_t hash;
    uint32_t keylen;
    uint32_t size; /* bytes counted against the cap */
    vd_anomaly_model_t model;
    char key[]; /* keylen bytes */
} entry_t;

typedef struct shard {
    pthread_mutex_t lock;
    entry_t **table;
    size_t cap, n, bytes;
    entry_t *newest, *oldest;
    uint64_t evictions, observed;
} shard_t;

struct vd_anomaly {
    shard_t shards[SHARDS];
    size_t shard_bytes;
};

size_t vd_anomaly_series_bytes(size_t keylen) {
    /* the entry, its key rounded as malloc does, and its slot in the hash table */
    return ((sizeof(entry_t) + keylen + 15) & ~(size_t)15) + sizeof(entry_t *);
}

vd_anomaly_t *vd_anomaly_new(size_t max_bytes) {
    vd_anomaly_t *a = calloc(1, sizeof *a);
    if (!a) return NULL;
    a->shard_bytes = max_bytes / SHARDS;
    for (int i = 0; i < SHARDS; i++) {
        pthread_mutex_init(&a->shards[i].lock, NULL);
        a->shards[i].cap = 16;
        if (!(a->shards[i].table = calloc(16, sizeof(entry_t *)))) {
            vd_anomaly_free(a);
            return NULL;
        }
    }
    return a;
}

void vd_anomaly_free(vd_anomaly_t *a) {
    if (!a) return;
    for (int i = 0; i < SHARDS; i++) {
        shard_t *sh = &a->shards[i];
        for (entry_t *e = sh->newest, *next; e; e = next) {
            next = e->older;
            free(e);
        }
        free(sh->table);
        pthread_mutex_destroy(&sh->lock);
    }
    free(a);
}

static void lru_unlink(shard_t *sh, entry_t *e) {
    if (e->newer)
        e->newer->older = e->older;
    else
        sh->newest = e->older;
    if (e->older)
        e->older->newer = e->newer;
    else
        sh->oldest = e->newer;
    e->newer = e->older = NULL;
}

static void lru_push(shard_t *sh, entry_t *e) {
    e->older = sh->newest;
    e->newer = NULL;
    if (sh->newest) sh->newest->newer = e;
    sh->newest = e;
    if (!sh->oldest) sh->oldest = e;
}

static void remove_entry(shard_t *sh, entry_t *e) {
    entry_t **p = &sh->table[e->hash & (sh->cap - 1)];
    while (*p != e)
        p = &(*p)->next;
    *p = e->next;
    lru_unlink(sh, e);
    sh->n--;
    sh->bytes -= e->size;
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

static entry_t *find(shard_t *sh, uint64_t h, const char *key, size_t len) {
    for (entry_t *e = sh->table[h & (sh->cap - 1)]; e; e = e->next)
        if (e->hash == h && e->keylen == len && memcmp(e->key, key, len) == 0) return e;
    return NULL;
}

/* A new model for key, made the most recent; older ones go past the cap (never the new one,
 * so a cap smaller than one series still learns one). */
static entry_t *insert(vd_anomaly_t *a, shard_t *sh, uint64_t h, const char *key, size_t len) {
    size_t size = vd_anomaly_series_bytes(len);
    entry_t *e = calloc(1, sizeof *e + len);
    if (!e) return NULL;
    e->hash = h;
    e->keylen = (uint32_t)len;
    e->size = (uint32_t)size;
    vd_anomaly_model_init(&e->model);
    memcpy(e->key, key, len);
    e->next = sh->table[h & (sh->cap - 1)];
    sh->table[h & (sh->cap - 1)] = e;
    lru_push(sh, e);
    sh->n++;
    sh->bytes += size;
    while (sh->bytes > a->shard_bytes && sh->oldest != e) {
        remove_entry(sh, sh->oldest);
        sh->evictions++;
    }
    if (sh->n > sh->cap) grow(sh);
    return e;
}

static shard_t *shard_of(vd_anomaly_t *a, uint64_t h) {
    return &a->shards[(h >> 58) % SHARDS];
}

int vd_anomaly_observe(vd_anomaly_t *a, const char *key, size_t len, int64_t t, double value,
                       vd_anomaly_result_t *out) {
    if (len > UINT32_MAX || !(fabs(value) <= VD_ANOMALY_VALUE_MAX))
        return VD_EINVAL; /* before a model is made */
    uint64_t h = XXH3_64bits(key, len);
    shard_t *sh = shard_of(a, h);
    pthread_mutex_lock(&sh->lock);
    entry_t *e = find(sh, h, key, len);
    if (e && sh->newest != e) {
        lru_unlink(sh, e);
        lru_push(sh, e);
    }
    if (!e) e = insert(a, sh, h, key, len);
    int rc = e ? vd_anomaly_model_observe(&e->model, t, value, out) : VD_ENOMEM;
    sh->observed += rc == 0;
    pthread_mutex_unlock(&sh->lock);
    return rc;
}

int vd_anomaly_get(vd_anomaly_t *a, const char *key, size_t len, vd_anomaly_model_t *out) {
    uint64_t h = XXH3_64bits(key, len);
    shard_t *sh = shard_of(a, h);
    pthread_mutex_lock(&sh->lock);
    entry_t *e = find(sh, h, key, len);
    if (e) *out = e->model;
    pthread_mutex_unlock(&sh->lock);
    return e ? 0 : VD_ENOTFOUND;
}

void vd_anomaly_stats(vd_anomaly_t *a, vd_anomaly_stats_t *out) {
    memset(out, 0, sizeof *out);
    for (int i = 0; i < SHARDS; i++) {
        shard_t *sh = &a->shards[i];
        pthread_mutex_lock(&sh->lock);
        out->series += sh->n;
        out->bytes += sh->bytes;
        out->evictions += sh->evictions;
        out->observed += sh->observed;
        pthread_mutex_unlock(&sh->lock);
    }
}
