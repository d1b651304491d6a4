/* Loading plugin shared objects: search, private copies, ABI checks, init and fini.
 * One registry per engine; policies of every worker and every reload share it.
 *
 * A plugin is loaded from a private copy named by its content (private_copy.h), never from
 * the installed file: a file whose bytes are already loaded reuses that copy, a file with new
 * bytes (a new build) is loaded beside it. Each copy is counted by the stages using it; when
 * the last one goes (a reload replaced the build, and the old policy drained) its fini() runs
 * and it is unloaded. */
#ifndef VD_PLUGIN_REGISTRY_H
#define VD_PLUGIN_REGISTRY_H

#include "private_copy.h"
#include "verdict/plugin.h"

#include <pthread.h>
#include <stddef.h>

typedef struct vd_plugin_lib {
    char *path; /* the installed file it was first loaded from: what messages name */
    char *name; /* the descriptor's name, the host's copy (read by crash reports) */
    char content[VD_CONTENT_HEX]; /* XXH3-128 of the file's bytes: which build this is */
    int fd; /* the private copy dlopen mapped, kept open so that its /proc name stays ours */
    void *dl;
    const vd_plugin_t *desc;
    void *global; /* from init() */
    int refs;     /* stages using this copy, and opens not yet handed to a stage */
    struct vd_plugin_registry *registry;
    struct vd_plugin_lib *next;
} vd_plugin_lib_t;

typedef struct vd_plugin_registry {
    pthread_mutex_t lock; /* taken while loading policies and when a stage lets go of a copy */
    vd_plugin_lib_t *libs;
    char **dirs; /* where plugin "name" is looked up as DIR/name.so, in order */
    size_t ndirs;
} vd_plugin_registry_t;

/* dirs may be NULL (no search directories: only paths work). Returns 0 or VD_ENOMEM. */
int vd_plugin_registry_init(vd_plugin_registry_t *r, const char *const *dirs, size_t ndirs);

/* Finds or loads the plugin named by `name`: a bare name is searched as DIR/name.so in the
 * registry's directories; a name with a '/' or ending in ".so" is a path, relative to
 * policy_dir. Reads the file; when a copy with the same bytes is loaded, returns it, else
 * loads a private copy, checks the descriptor and runs init(). The caller owns one reference
 * to *out: hand it to vd_plugin_stage_create or give it back with vd_plugin_lib_unref. On
 * failure returns a negative VD_E* code with a message naming the file and the problem. */
int vd_plugin_registry_open(vd_plugin_registry_t *r, const char *name, const char *policy_dir,
                            vd_plugin_lib_t **out, char *err, size_t errlen);

/* Gives back a reference. The last one runs fini() and unloads the copy: every instance was
 * destroyed, so no call into it is left. Any thread. */
void vd_plugin_lib_unref(vd_plugin_lib_t *lib);

/* One more reference to lib: its code stays mapped until the matching unref. */
void vd_plugin_lib_ref(vd_plugin_lib_t *lib);

/* Frees the registry. Call after every stage was freed; a copy still referenced then gets its
 * fini() but stays mapped. */
void vd_plugin_registry_close(vd_plugin_registry_t *r);

#endif
