/* What this thread is doing in plugin code: a thread-local record set around every call into
 * a plugin (its loading, init, create, score, state answers, destroy, fini, unloading), so
 * that a crash report can name the plugin, the stage and the pipeline that were running.
 *
 * Entering and leaving are three stores each into initial-exec thread-local storage (no call,
 * no lock), cheap enough for every score(); the crash handler reads the record from a signal
 * handler, which is safe because it only loads pointers the host owns. */
#ifndef VD_PLUGIN_ACTIVITY_H
#define VD_PLUGIN_ACTIVITY_H

struct vd_plugin_lib;
struct vd_plugin_stage;

typedef struct vd_plugin_activity {
    const struct vd_plugin_lib *lib;  /* the loaded copy running, or NULL: none */
    const struct vd_plugin_stage *ps; /* its stage, when the call is for one */
    const char *what;                 /* "score", "create", "init", ... */
} vd_plugin_activity_t;

/* The calling thread's record. Defined in activity.c; use the functions below. */
extern _Thread_local vd_plugin_activity_t vd__plugin_activity;

/* Marks the thread as running `what` of lib (for stage ps, or NULL); returns the record it
 * replaces, for vd_plugin_activity_leave (calls may nest: score() reading state). */
static inline vd_plugin_activity_t vd_plugin_activity_enter(const struct vd_plugin_lib *lib,
                                                            const struct vd_plugin_stage *ps,
                                                            const char *what) {
    vd_plugin_activity_t saved = vd__plugin_activity;
    vd__plugin_activity = (vd_plugin_activity_t){lib, ps, what};
    return saved;
}

/* Puts back the record vd_plugin_activity_enter replaced. */
static inline void vd_plugin_activity_leave(vd_plugin_activity_t saved) {
    vd__plugin_activity = saved;
}

/* The calling thread's record (lib is NULL when no plugin code runs). Async-signal-safe. */
const vd_plugin_activity_t *vd_plugin_activity_current(void);

#endif
