/* The campaign index: groups of items that belong together, shared by every worker of the
 * process. Two kinds, one table:
 *
 *   text    near-duplicate texts (sketch.h): a new text joins the campaign whose first text's
 *           sketch agrees with it on more than half of the values (the largest such), found
 *           through the LSH bands of its first text and of up to three members; else it
 *           starts a campaign of its own.
 *   fields  lockstep groups: items sharing the exact values of a chosen set of categorical
 *           features (a user name's shape, an email domain, a user agent, a form timing
 *           bucket), counted within a sliding window.
 *
 * A campaign keeps its size, first and last sight, the items of its window and of the last
 * hour, the distinct sources (HyperLogLog) of its window, and the weights of the reports it
 * received. Campaigns cost memory, their members hardly: an item that joins a campaign
 * updates counts in place (the first three that differ from the first text also file their
 * bands). Memory is capped; past the cap the least recently used campaigns
 * are evicted, and a campaign idle for its ttl expires. Campaigns are spread over shards by id,
 * each with its own lock; the band index over its own shards. Everything is a function of the
 * items and the times given, never of the wall clock. */
#ifndef VD_CAMPAIGN_H
#define VD_CAMPAIGN_H

#include "sketch.h"

#include <stddef.h>
#include <stdint.h>

typedef struct vd_campaigns vd_campaigns_t;

typedef enum { VD_CAMPAIGN_TEXT, VD_CAMPAIGN_FIELDS, VD_CAMPAIGN_KINDS } vd_campaign_kind_t;

/* "text", "fields". */
extern const char *const vd_campaign_kind_names[VD_CAMPAIGN_KINDS];

#define VD_CAMPAIGN_SLOTS         12    /* buckets of a window: exact to a twelfth of it */
#define VD_CAMPAIGN_HLL           128   /* registers of each of a campaign's two source counts */
#define VD_CAMPAIGN_TEXT_WINDOW   86400 /* defaults, seconds */
#define VD_CAMPAIGN_TEXT_TTL      (INT64_C(7) * 86400)
#define VD_CAMPAIGN_FIELDS_WINDOW 3600
#define VD_CAMPAIGN_MIN_WINDOW    60
#define VD_CAMPAIGN_MAX_WINDOW    (INT64_C(30) * 86400)

/* How one item is looked up and counted. */
typedef struct vd_campaign_opts {
    const char *scope; /* campaigns of different scopes never mix ("" or NULL: the default) */
    size_t scope_len;
    const char *source; /* who sent the item (a sender, a network): counted distinct; or NULL */
    size_t source_len;
    int64_t window; /* seconds; 0: the kind's default. A campaign keeps the one it began with */
    int64_t ttl;    /* idle seconds before it expires; 0: the default (text a week, fields two
                       windows); never less than the window */
    int look_only;  /* find the campaign, change nothing, start none */
} vd_campaign_opts_t;

/* A campaign as a rule sees it, after the item was counted. */
typedef struct vd_campaign_view {
    uint64_t id;
    vd_campaign_kind_t kind;
    int created;        /* this item started it */
    int agree;          /* text: values equal to the campaign's first sketch (of 32); fields: 32 */
    uint64_t size;      /* items since it was first seen */
    uint64_t recent;    /* items within its window */
    uint64_t growth_1h; /* items within the last hour */
    uint64_t sources;   /* distinct sources within its window (about 9% error past a few
                           hundred; exact to a few percent below) */
    int64_t first_seen, last_seen, window; /* seconds */
    double bad, good;   /* weights of the reports received (vd_campaign_report) */
    uint64_t reporters; /* distinct people who reported it as bad (64-bit linear counting:
                           exact for a few, about 10% off from ten to a hundred) */
} vd_campaign_view_t;

typedef struct vd_campaign_stats {
    uint64_t entries, bytes, evictions, expired;
    uint64_t lookups, matches, created;
    uint64_t too_short; /* text: texts with too few words for a sketch (counted by callers) */
} vd_campaign_stats_t;

/* An index holding at most max_bytes of campaigns (band entries included). NULL when out of
 * memory. */
vd_campaigns_t *vd_campaigns_new(size_t max_bytes);
void vd_campaigns_free(vd_campaigns_t *c);

/* Drops every campaign (policy tests start each case from nothing). */
void vd_campaigns_clear(vd_campaigns_t *c);

/* Finds the campaign of a text's sketch at time now and counts the item in it (or starts one).
 * Returns 0 with *out filled, VD_ENOTFOUND (look_only and no campaign is near), VD_EINVAL (a
 * window out of range) or VD_ENOMEM. */
int vd_campaign_text(vd_campaigns_t *c, const vd_sketch_t *sk, const vd_campaign_opts_t *o,
                     int64_t now, vd_campaign_view_t *out);

/* The same for a lockstep group: key names the feature values (vd_campaign_fields_key). */
int vd_campaign_fields(vd_campaigns_t *c, uint64_t key, const vd_campaign_opts_t *o, int64_t now,
                       vd_campaign_view_t *out);

/* Adds a person's report to campaign id of kind: weight (0 to 1e6) to its bad (bad != 0) or
 * good weight, and for a bad report the reporter (or NULL) to its distinct reporters; a reported
 * campaign lives at least its ttl from now. *out gets the campaign after the report. For the report
 * path (docs/protocol.md, report): the id is what the decision observed. Returns 0, VD_ENOTFOUND
 * (no such campaign: expired, evicted, never made here) or VD_EINVAL (a weight out of
 * range). */
int vd_campaign_report(vd_campaigns_t *c, vd_campaign_kind_t kind, uint64_t id, int bad,
                       double weight, const char *reporter, size_t rlen, int64_t now,
                       vd_campaign_view_t *out);

/* For an operator (the admin socket's state_get and state_reset): campaign id of kind as it is
 * at now, into *out; with drop, it is then removed (bands and all). Returns 0, or VD_ENOTFOUND
 * (expired, evicted, never made here). */
int vd_campaign_inspect(vd_campaigns_t *c, vd_campaign_kind_t kind, uint64_t id, int drop,
                        int64_t now, vd_campaign_view_t *out);

/* ---- campaigns on disk (state snapshots: state/snapshot_file.h) ----
 * A campaign is saved as bytes in this build's memory layout (read back on the architecture
 * that wrote it, as the store's records are), checked field by field when read back. */

/* Receives one saved campaign (valid during the call) and when it expires; returns 0 to go on. */
typedef int (*vd_campaign_put_fn)(void *ud, const void *saved, size_t len, int64_t expires);

#define VD_CAMPAIGN_SHARDS 64

/* Calls put for every campaign of shard (0 to VD_CAMPAIGN_SHARDS - 1) alive at now, least
 * recently used first, while holding the shard's lock (put must only copy: a caller writes
 * between shards). Returns 0 or what put returned. */
int vd_campaigns_save(vd_campaigns_t *c, int shard, int64_t now, vd_campaign_put_fn put, void *ud);

#define VD_CAMPAIGN_SAVED_MAX 2048 /* bytes of a saved campaign, at most */

/* Whether saved[0..len) is a campaign vd_campaigns_save of this build wrote: 0; VD_ENOTFOUND
 * for one another build wrote in another layout (left out, not an error); VD_EPROTO for bytes
 * that are no campaign, or values out of range. */
int vd_campaigns_check_saved(const void *saved, size_t len);

/* Puts a saved campaign back (its bands filed again) as the most recently used of its shard.
 * One expired at now, or already there, is left out (VD_ENOTFOUND). Returns 0, VD_ENOTFOUND,
 * VD_EPROTO (see vd_campaigns_check_saved) or VD_ENOMEM. */
int vd_campaigns_restore(vd_campaigns_t *c, const void *saved, size_t len, int64_t now);

/* Notes a text the caller could not sketch (too short), for the stats. */
void vd_campaigns_note_short(vd_campaigns_t *c);

/* ---- for an index kept elsewhere (state/campaign_op.h: Redis), named as this one names ---- */

/* The window and ttl an item of kind asks for (defaults filled in): 0, or VD_EINVAL. */
int vd_campaign_limits(vd_campaign_kind_t kind, const vd_campaign_opts_t *o, int64_t *window,
                       int64_t *ttl);

/* A text's names: the id of the campaign it would start, and its band keys, in its scope. */
void vd_campaign_text_names(const vd_sketch_t *sk, const vd_campaign_opts_t *o, uint64_t *id,
                            uint64_t bands[VD_SKETCH_BANDS]);

/* The id of a lockstep group (its key, scope and window). */
uint64_t vd_campaign_fields_id(uint64_t key, const vd_campaign_opts_t *o, int64_t window);

/* The bit (0 to 63) of a reporter in a campaign's reporters' bitmap, and about how many
 * reporters a bitmap holds. */
int vd_campaign_reporter_bit(const char *reporter, size_t len);
uint64_t vd_campaign_reporters(uint64_t bits);

/* Counts, for the stats, a lookup made elsewhere: it matched an existing campaign (text: a
 * near one; fields: its group), or created one. */
void vd_campaigns_note_lookup(vd_campaigns_t *c, vd_campaign_kind_t kind, int matched, int created);

/* Per kind: totals over every shard. */
void vd_campaigns_stats(vd_campaigns_t *c, vd_campaign_stats_t out[VD_CAMPAIGN_KINDS]);

#endif
