/* The engine: configuration, the worker threads, the listener, signals and policy reloads. */
#ifndef VD_ENGINE_H
#define VD_ENGINE_H

#include "acceptor.h"
#include "base/log.h"
#include "config.h"
#include "list_watch.h"
#include "persist.h"
#include "plugin/registry.h"
#include "serve/snapshot.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <uv.h>

struct vd_worker;
struct vd_metrics;
struct vd_policy_src;
struct vd_dlog;

typedef struct vd_engine {
    vd_config_t cfg;
    uv_loop_t loop; /* main thread: listener and signals */
    struct vd_worker *workers;
    int nworkers;
    vd_acceptor_t acceptor; /* the sockets, accepting on the main loop */
    uv_signal_t sig_term, sig_int, sig_hup;
    uv_async_t worker_done;     /* a worker's loop has ended */
    vd_list_watch_t list_watch; /* reloads changed list files */
    struct vd_metrics *metrics; /* NULL unless --metrics */
    vd_plugin_registry_t plugins;
    struct vd_store *store;         /* the embedded state every worker shares */
    struct vd_campaigns *campaigns; /* the campaign index every worker shares */
    vd_persist_t persist;           /* its snapshots (--state-snapshot) */
    struct vd_dlog *dlog;           /* the decision log (--decision-log), or NULL */
    pthread_mutex_t reload_lock;    /* serialises reloads; never taken on the request path */
    struct vd_policy_src *src;      /* the snapshot serving now, under reload_lock */
    char version[20];               /* copy of src->version, under reload_lock */
    atomic_uint_fast64_t reloads, reload_failures;
    atomic_int draining;
    int64_t started_ns;
} vd_engine_t;

/* Loads the policies (one compiled copy per worker), binds the socket and starts the workers.
 * On failure writes a message into err and returns a negative VD_E* code. */
int vd_engine_start(vd_engine_t *e, const vd_config_t *cfg, char *err, size_t errlen);

/* Runs the main loop until SIGTERM/SIGINT has drained every worker. Returns 0. */
int vd_engine_run(vd_engine_t *e);

/* Frees everything after vd_engine_run returned. */
void vd_engine_close(vd_engine_t *e);

/* Reads the policy directory again, compiles one copy per worker and hands them over; the
 * workers switch between requests. Blocking and thread-safe: call it off the event loops.
 * On success copies the new version into version (20 bytes); on failure the running policy
 * stays and err holds "file:line: message". */
int vd_engine_reload(vd_engine_t *e, char *version, char *err, size_t errlen);

/* Copies the serving policy version into out (20 bytes). */
void vd_engine_version(vd_engine_t *e, char *out);

/* Sums every worker's figures into snap, with the whole-process ones (free it with
 * vd_snapshot_free). Any thread. Returns 0 or VD_ENOMEM. */
int vd_engine_snapshot(vd_engine_t *e, vd_stats_snapshot_t *snap);

#endif
