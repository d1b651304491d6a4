/* Daemon settings, filled from the command line and read-only once the engine starts. */
#ifndef VD_CONFIG_H
#define VD_CONFIG_H

#include "lua/state.h"

#include <stddef.h>

typedef struct vd_config {
    const char *socket_path;
    const char *policy_dir;
    const char *metrics_addr; /* HOST:PORT of the Prometheus endpoint, or NULL */
    int workers;              /* worker threads; 0 = number of CPUs */
    unsigned socket_mode;     /* file mode of the socket, default 0660 */
    /* The admin socket (--admin-socket, NULL: none), where administrative methods are allowed,
     * and its file mode (default 0600). */
    const char *admin_socket_path;
    unsigned admin_socket_mode;
    size_t max_request;        /* bytes per request frame, default 1 MiB */
    size_t write_high_water;   /* unsent reply bytes per connection before it stops being read */
    int drain_timeout_ms;      /* how long SIGTERM waits for connections to finish */
    int idle_timeout_ms;       /* a connection with nothing to do is closed after it; 0: never */
    int max_connections;       /* open client connections; past it accepting pauses; 0: no limit */
    int request_timeout_ms;    /* a request begun must arrive whole within it; 0: no limit */
    int deadline_ms;           /* default decide deadline; 0 = none */
    int max_pending;           /* decisions per worker waiting for plugins before overloaded */
    size_t max_pending_bytes;  /* request bytes they may hold per worker before overloaded */
    size_t state_bytes;        /* memory cap of the embedded state store */
    size_t campaign_bytes;     /* memory cap of the campaign index */
    int report_limit;          /* reports one reporter may make in an hour (report method) */
    int list_check_ms;         /* how often list files are looked at for changes; 0 = never */
    const char *redis_address; /* state in Redis when set (see engine/state/redis.h) */
    const char *redis_prefix;  /* put before every Redis key */
    int redis_timeout_ms;      /* per Redis operation before the fallback answers */
    const char *redis_user, *redis_password; /* AUTH, from --redis-auth-file */
    const char *const *plugin_dirs;          /* where plugin "name" is looked up, in order */
    size_t nplugin_dirs;
    vd_lua_limits_t lua;
    /* The embedded store's snapshot file (--state-snapshot), NULL: none; and the seconds
     * between snapshots, 0: only at shutdown. */
    const char *state_snapshot;
    /* The decision log (--decision-log PATH, NULL: off): rotation by size and age, rotated
     * files kept, and each worker's buffer. */
    const char *decision_log;
    size_t decision_log_max_bytes;
    int decision_log_max_age_s;
    int decision_log_keep;
    size_t decision_log_buffer;
    int state_snapshot_interval_s;
} vd_config_t;

/* Fills the documented defaults. */
void vd_config_defaults(vd_config_t *c);

#endif
