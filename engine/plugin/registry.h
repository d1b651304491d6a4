/* Loading plugin shared objects: search, dlopen, ABI checks, init once per process.
 * One registry per engine; policies of every worker and every reload share it. */
#ifndef VD_PLUGIN_REGISTRY_H
#define VD_PLUGIN_REGISTRY_H

#include "verdict/plugin.h"

#include <pthread.h>
#include <stddef.h>

typedef struct vd_plugin_lib {
    char *path; /* resolved file */
    void *dl;
    const vd_plugin_t *desc;
    void *global; /* from init() */
    struct vd_plugin_lib *next;
} vd_plugin_lib_t;

typedef struct vd_plugin_registry {
    pthread_mutex_t lock; /* taken while loading policies only */
    vd_plugin_lib_t *libs;
    char **dirs; /* where plugin "name" is looked up as DIR/name.so, in order */
    size_t ndirs;
} vd_plugin_registry_t;

/* dirs may be NULL (no search directories: only paths work). Returns 0 or VD_ENOMEM. */
int vd_plugin_registry_init(vd_plugin_registry_t *r, const char *const *dirs, size_t ndirs);

/* Finds or loads the plugin named by `name`: a bare name is searched as DIR/name.so in the
 * registry's directories; a name with a '/' or ending in ".so" is a path, relative to
 * policy_dir. Checks the descriptor and runs init() the first time. On failure returns a
 * negative VD_E* code with a message naming the file and the problem in err. */
int vd_plugin_registry_open(vd_plugin_registry_t *r, const char *name, const char *policy_dir,
                            vd_plugin_lib_t **out, char *err, size_t errlen);

/* Runs fini() of every plugin and unloads them. Call after every instance was destroyed. */
void vd_plugin_registry_close(vd_plugin_registry_t *r);

#endif
