/* The embedded state store: sliding-window counters, distinct counts (HyperLogLog) and labels
 * with expiry, shared by every worker of the process. The keys are split over shards, each
 * with its own lock, so that workers rarely wait for one another; memory is capped, and the
 * least recently used entries are evicted past the cap. */
#ifndef VD_STORE_H
#define VD_STORE_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

/* The windows every counter keeps at once. */
#define VD_WINDOWS 3
extern const int64_t vd_window_seconds[VD_WINDOWS];   /* 60, 3600, 86400 */
extern const char *const vd_window_names[VD_WINDOWS]; /* "1m", "1h", "24h" */

#define VD_STORE_BUCKETS  6    /* sub-buckets per window: a window is exact to 1/6 of its length */
#define VD_STORE_SHARDS   64   /* each with its own lock */
#define VD_STORE_HLL_REGS 1024 /* registers of a distinct count */
#define VD_STORE_HLL_RANK 55   /* the largest value a register can hold (64 - 10 index bits + 1) */

typedef struct vd_store vd_store_t;

typedef enum {
    VD_STORE_COUNTER,
    VD_STORE_DISTINCT,
    VD_STORE_LABEL,
    VD_STORE_RECORD /* vd_store_record's fixed-size payloads */
} vd_store_kind_t;

#define VD_STORE_MAX_RECORD 4096 /* bytes of a record's payload, at most */

/* One window of a counter: VD_STORE_BUCKETS counts of consecutive sub-intervals, the newest
 * being `head` (the wall-clock time divided by the bucket's width), so a window read after any
 * pause, a restart included, leaves out exactly what aged out meanwhile. */
typedef struct vd_store_window {
    uint32_t head;
    uint32_t count[VD_STORE_BUCKETS];
} vd_store_window_t;

/* An entry as a state snapshot sees it. Times are wall-clock seconds, so an entry means the
 * same thing in another process. */
typedef struct vd_store_item {
    vd_store_kind_t kind;
    const char *key;
    size_t keylen;
    int64_t expires;                       /* 0: never */
    vd_store_window_t windows[VD_WINDOWS]; /* counters */
    const uint8_t *regs;                   /* distinct counts: VD_STORE_HLL_REGS registers */
    const void *payload;                   /* records: the payload, as the module wrote it */
    uint32_t payload_len;
} vd_store_item_t;

/* Called for each entry a walk visits; a negative VD_E* code stops the walk. The item (key and
 * registers included) is borrowed for the call, which runs under the shard's lock: copy, do not
 * call the store. */
typedef int (*vd_store_visit_fn)(void *ud, const vd_store_item_t *item);

typedef struct vd_store_walk vd_store_walk_t;

#define VD_STORE_KINDS 4

/* "counter", "distinct", "label", "record", by vd_store_kind_t. */
extern const char *const vd_store_kind_names[VD_STORE_KINDS];

typedef struct vd_store_kind_stats {
    uint64_t entries, bytes, evictions, expired;
} vd_store_kind_stats_t;

typedef struct vd_store_stats {
    uint64_t entries, bytes, evictions, expired;
    /* The same by kind: which kind of state the memory cap is pushing out (records are the
     * anomaly models and behaviour profiles). */
    vd_store_kind_stats_t kinds[VD_STORE_KINDS];
} vd_store_stats_t;

/* A store holding at most max_bytes of entries (keys included). NULL when out of memory. */
vd_store_t *vd_store_new(size_t max_bytes);
void vd_store_free(vd_store_t *s);

/* Drops every entry, as if the store were new (policy tests start each case from empty state
 * without loading the policy again). No walk may be running. */
void vd_store_clear(vd_store_t *s);

/* Adds n at time now (seconds) to the counter key; fills counts[VD_WINDOWS] with the totals of
 * the windows after the addition (n = 0 only reads). Returns 0 or VD_ENOMEM. */
int vd_store_count(vd_store_t *s, const char *key, size_t len, uint32_t n, int64_t now,
                   uint64_t counts[VD_WINDOWS]);

/* Adds value to the distinct set key (n = NULL only reads); *estimate is the approximate number
 * of distinct values seen (HyperLogLog, 1,024 registers: about 3% error). The set expires
 * after ttl seconds without additions (0: never). Returns 0 or VD_ENOMEM. */
int vd_store_distinct(vd_store_t *s, const char *key, size_t len, const char *value, size_t vlen,
                      int64_t now, int64_t ttl, double *estimate);

/* Sets a label until now + ttl (ttl <= 0 removes it). Returns 0 or VD_ENOMEM. */
int vd_store_label(vd_store_t *s, const char *key, size_t len, int64_t now, int64_t ttl);

/* Seconds the label has left at now, or 0 when it is not set. */
int64_t vd_store_label_ttl(vd_store_t *s, const char *key, size_t len, int64_t now);

/* Called with a record's payload (size bytes, zeroed when made = 1), or NULL when there is none
 * and none was to be made; it runs under the shard's lock: no call into the store. */
typedef int (*vd_store_record_fn)(void *ud, void *payload, int made);

/* Finds the record kept under key (made, zeroed, when create is set and there is none) and
 * calls fn on its size-byte payload. Records are for modules above the store that keep
 * fixed-size state per key (behaviour profiles): they share the memory cap and the recency of
 * the other entries and are evicted like them, in a key space of their own, and walks
 * (snapshots) carry their bytes as they are. All records of a key space have one size, at most
 * VD_STORE_MAX_RECORD. Returns what fn returns, or VD_ENOMEM when one could not be made. */
int vd_store_record(vd_store_t *s, const char *key, size_t len, size_t size, int create,
                    vd_store_record_fn fn, void *ud);

/* The most placeholder values an operator may give a distinct count (vd_store_replace). */
#define VD_STORE_MAX_SEEDS 10000

/* The i-th placeholder value a replaced distinct count holds, into out (at least 24 bytes);
 * returns its length. The embedded store and Redis use the same ones. */
size_t vd_store_seed_value(uint32_t i, char *out);

/* Replaces the entry of kind and key at time now, as an operator's set or reset does, in one
 * step under its shard's lock: a counter then holds n in each window (as if n had been added
 * now), a distinct count n placeholder values (so that it reads about n; ttl as for
 * vd_store_distinct), a label is set for n seconds; n = 0 removes the entry. old and cur get
 * the values before and after as state operations report them: a counter's windows, a distinct
 * count's estimate, a label's seconds left (-1: not set). Returns 0, VD_EINVAL (n over
 * VD_STORE_MAX_SEEDS for a distinct count) or VD_ENOMEM. */
int vd_store_replace(vd_store_t *s, vd_store_kind_t kind, const char *key, size_t len, uint32_t n,
                     int64_t now, int64_t ttl, int64_t old[VD_WINDOWS], int64_t cur[VD_WINDOWS]);

/* A walk over every entry of the store a few at a time, for snapshots: each step holds one
 * shard's lock for a bounded number of entries and the next step goes to the next shard, so a
 * worker waits at most one step however large the store is. A walk visits each entry that
 * existed when it began, is still there when its turn comes and is alive at now, exactly once
 * and as it is at that moment (entries made since are left out); within a shard, least
 * recently used first. One walk at a time per store. Returns 0, VD_EBUSY (another walk is on) or
 * VD_ENOMEM. */
int vd_store_walk_new(vd_store_t *s, int64_t now, vd_store_walk_t **out);

/* One step: visits at most max entries of one shard. Returns 1 while entries are left, 0 when
 * the walk is over, or what visit returned when it stopped the walk. */
int vd_store_walk_step(vd_store_walk_t *w, size_t max, vd_store_visit_fn visit, void *ud);

/* The longest time a step of this walk held a shard's lock: what a worker could have waited. */
int64_t vd_store_walk_longest_hold_ns(const vd_store_walk_t *w);

/* Ends the walk, over or not (the store must outlive it). */
void vd_store_walk_free(vd_store_walk_t *w);

/* Puts an entry back as it was (replacing one of the same kind and key), as the most recently
 * used of its shard. Returns 0, VD_EINVAL (a register above VD_STORE_HLL_RANK, an unknown
 * kind) or VD_ENOMEM. */
int vd_store_restore(vd_store_t *s, const vd_store_item_t *item);

/* Totals over every shard (each read under its lock, so consistent per shard). */
void vd_store_stats(vd_store_t *s, vd_store_stats_t *out);

#endif
