/* The figures the stats method and the Prometheus endpoint show: every worker's counters
 * summed at one moment, with the whole-process ones. */
#ifndef VD_SNAPSHOT_H
#define VD_SNAPSHOT_H

#include "base/stats.h"
#include "dlog/dlog.h"
#include "proto/admin_params.h"
#include "proto/rpc.h"
#include "report_outcome.h"
#include "state/campaign.h"
#include "state/redis.h"
#include "state/snapshot_file.h"
#include "state/store.h"

#include <msgpack.h>
#include <stdint.h>

struct vd_policy;

/* The methods that change state (state_set, state_reset: vd_state_method_t from VD_STATE_SET
 * on), as stats and metrics name them. */
#define VD_CHANGE_METHODS 2
extern const char *const vd_change_method_names[VD_CHANGE_METHODS];

/* What the serving layer counts on one worker (that worker is the only writer). */
typedef struct vd_serve_stats {
    vd_counter_t requests, decisions, notifications;
    vd_counter_t errors[VD_RPC__ERR_COUNT];
    vd_counter_t changes[VD_CHANGE_METHODS][VD_KEY_KINDS]; /* by the admin socket */
    vd_counter_t reports[2][VD_REPORT_OUTCOMES];           /* by label (good, bad), outcome */
    vd_counter_t report_refs_lost; /* decisions whose campaigns could not be remembered */
} vd_serve_stats_t;

typedef struct vd_stats_snapshot {
    int workers;
    uint64_t requests, decisions, notifications, errors_total;
    uint64_t errors[VD_RPC__ERR_COUNT];
    uint64_t changes[VD_CHANGE_METHODS][VD_KEY_KINDS]; /* by the admin socket */
    uint64_t reports[2][VD_REPORT_OUTCOMES];           /* by label (good, bad), outcome */
    uint64_t report_refs_lost;
    uint64_t conns_total, conns_open, bytes_in, bytes_out;
    uint64_t conns_idle_closed, conns_slow_closed; /* closed by the idle / request timeouts */
    vd_stats_aggs_t aggs;                          /* pipelines and stages */
    char policy[20];
    uint64_t reloads, reload_failures;
    uint64_t accept_pauses; /* accepting paused: out of descriptors, or --max-connections */
    uint64_t read_pauses;   /* connections stopped being read at their reply mark */
    uint64_t waiting, waiting_bytes; /* decisions waiting for plugins or Redis, their requests */
    double uptime_s;
    /* State. */
    const char *redis_address; /* NULL: embedded */
    int state_fail_open;
    vd_store_stats_t store;
    vd_campaign_stats_t campaigns[VD_CAMPAIGN_KINDS];
    vd_redis_totals_t redis;
    vd_state_snapshot_stats_t persist; /* the embedded store's snapshots (path NULL: off) */
    const char *decision_log;          /* its path, NULL: off */
    vd_dlog_stats_t dlog;
} vd_stats_snapshot_t;

/* Adds one worker's serving counters into snap (relaxed reads). */
void vd_snapshot_add_serve(vd_stats_snapshot_t *snap, vd_serve_stats_t *s);

void vd_snapshot_free(vd_stats_snapshot_t *snap);

/* Packs the stats map of the stats method (docs/protocol.md); the plugins section describes the
 * plugin stages of policy. */
void vd_snapshot_pack(msgpack_packer *pk, const vd_stats_snapshot_t *snap,
                      const struct vd_policy *policy);

#endif
