#include "registry.h"

#include "activity.h"
#include "base/error.h"
#include "base/log.h"
#include "host_api.h"

#include <dlfcn.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int vd_plugin_registry_init(vd_plugin_registry_t *r, const char *const *dirs, size_t ndirs) {
    memset(r, 0, sizeof *r);
    pthread_mutex_init(&r->lock, NULL);
    if (ndirs == 0) return 0;
    if (!(r->dirs = calloc(ndirs, sizeof *r->dirs))) return VD_ENOMEM;
    for (size_t i = 0; i < ndirs; i++) {
        if (!(r->dirs[i] = strdup(dirs[i]))) return VD_ENOMEM;
        r->ndirs++;
    }
    return 0;
}

static int is_path(const char *name) {
    size_t n = strlen(name);
    return strchr(name, '/') || (n > 3 && strcmp(name + n - 3, ".so") == 0);
}

/* Turns the policy's name into a file path, or explains why it cannot. */
static int resolve(const vd_plugin_registry_t *r, const char *name, const char *policy_dir,
                   char *path, size_t cap, char *err, size_t errlen) {
    if (is_path(name)) {
        int n = name[0] == '/' ? snprintf(path, cap, "%s", name)
                               : snprintf(path, cap, "%s/%s", policy_dir, name);
        if (n < 0 || (size_t)n >= cap)
            return snprintf(err, errlen, "plugin path too long"), VD_EINVAL;
        if (access(path, R_OK) != 0) {
            snprintf(err, errlen, "plugin '%s': cannot read %s: %s", name, path, strerror(errno));
            return VD_ENOTFOUND;
        }
        return 0;
    }
    for (size_t i = 0; i < r->ndirs; i++) {
        snprintf(path, cap, "%s/%s.so", r->dirs[i], name);
        if (access(path, R_OK) == 0) return 0;
    }
    int n = snprintf(err, errlen, "plugin '%s': no %s.so in the plugin directories (", name, name);
    for (size_t i = 0; i < r->ndirs && n > 0 && (size_t)n < errlen; i++)
        n += snprintf(err + n, errlen - (size_t)n, "%s%s", i ? ", " : "", r->dirs[i]);
    if (n > 0 && (size_t)n < errlen)
        snprintf(err + n, errlen - (size_t)n, "%s)", r->ndirs ? "" : "none; see --plugin-dir");
    return VD_ENOTFOUND;
}

/* Refuses descriptors this host cannot run, saying exactly what does not fit. */
static int check_descriptor(const vd_plugin_t *d, const char *path, char *err, size_t errlen) {
    if (!d)
        return snprintf(err, errlen, "%s: verdict_plugin_entry() returned NULL", path), VD_EINVAL;
    if (d->abi_major != VD_PLUGIN_ABI_MAJOR) {
        snprintf(err, errlen,
                 "%s: built for plugin ABI %u.%u, but this verdictd speaks ABI %d.%d (major "
                 "versions must match: rebuild the plugin against this SDK)",
                 path, d->abi_major, d->abi_minor, VD_PLUGIN_ABI_MAJOR, VD_PLUGIN_ABI_MINOR);
        return VD_EINVAL;
    }
    if (d->abi_minor > VD_PLUGIN_ABI_MINOR) {
        snprintf(err, errlen,
                 "%s: built for plugin ABI %u.%u, newer than this verdictd's %d.%d (upgrade "
                 "verdictd, or build the plugin against the older SDK)",
                 path, d->abi_major, d->abi_minor, VD_PLUGIN_ABI_MAJOR, VD_PLUGIN_ABI_MINOR);
        return VD_EINVAL;
    }
    if (d->size < sizeof(vd_plugin_t)) {
        snprintf(err, errlen, "%s: descriptor is %u bytes, ABI %d.%d needs %zu", path, d->size,
                 VD_PLUGIN_ABI_MAJOR, VD_PLUGIN_ABI_MINOR, sizeof(vd_plugin_t));
        return VD_EINVAL;
    }
    const char *missing = !d->name || !*d->name ? "name"
                          : !d->init            ? "init"
                          : !d->create          ? "create"
                          : !d->destroy         ? "destroy"
                          : !d->score           ? "score"
                                                : NULL;
    if (missing) {
        snprintf(err, errlen, "%s: descriptor has no %s", path, missing);
        return VD_EINVAL;
    }
    return 0;
}

/* The loader's message without the private copy's /proc name, which means nothing to anyone. */
static const char *loader_error(const char *where) {
    const char *msg = dlerror();
    size_t n = strlen(where);
    if (!msg) return "unknown error";
    return strncmp(msg, where, n) == 0 && strncmp(msg + n, ": ", 2) == 0 ? msg + n + 2 : msg;
}

static void *open_marked(vd_plugin_lib_t *lib, const char *where) {
    vd_plugin_activity_t saved = vd_plugin_activity_enter(lib, NULL, "load (constructors)");
    void *dl = dlopen(where, RTLD_NOW | RTLD_LOCAL);
    vd_plugin_activity_leave(saved);
    return dl;
}

/* dlopen of the private copy. Where that copy cannot be loaded (no /proc; a system that
 * refuses to run code from memfds, vm.memfd_noexec=2; a plugin that finds its libraries
 * through $ORIGIN), the installed file itself, with a warning. where: what was opened. */
static void *map_copy(vd_plugin_lib_t *lib, char *where, size_t cap) {
    snprintf(where, cap, "/proc/self/fd/%d", lib->fd);
    int have_proc = access(where, F_OK) == 0;
    void *dl = have_proc ? open_marked(lib, where) : NULL;
    if (dl) return dl;
    char why[512];
    snprintf(why, sizeof why, "%s", have_proc ? loader_error(where) : "no /proc/self/fd");
    snprintf(where, cap, "%s", lib->path);
    if (!(dl = open_marked(lib, where))) return NULL;
    vd_log(VD_LOG_WARN,
           "%s: loaded in place, not from a private copy (%s): overwriting this file while "
           "verdictd runs will crash it; install a new build by renaming it over the old one",
           lib->path, why);
    return dl;
}

/* Loads the private copy of bytes, checks it and runs init(). Messages name lib->path. */
static int load(vd_plugin_lib_t *lib, const vd_file_bytes_t *bytes, char *err, size_t errlen) {
    const char *path = lib->path, *base = strrchr(path, '/');
    char memname[64], where[PATH_MAX];
    snprintf(memname, sizeof memname, "verdict-plugin:%s", base ? base + 1 : path);
    lib->fd = vd_private_copy_new(bytes, memname, err, errlen);
    if (lib->fd < 0) return lib->fd;
    if (!(lib->dl = map_copy(lib, where, sizeof where))) {
        snprintf(err, errlen, "%s: cannot load: %s", path, loader_error(where));
        return VD_EIO;
    }
    dlerror();
    vd_plugin_entry_fn entry;
    *(void **)&entry = dlsym(lib->dl, VD_PLUGIN_ENTRY_SYMBOL);
    if (!entry) {
        snprintf(err, errlen, "%s: not a Verdict plugin (no %s symbol)", path,
                 VD_PLUGIN_ENTRY_SYMBOL);
        return VD_EINVAL;
    }
    vd_plugin_activity_t saved = vd_plugin_activity_enter(lib, NULL, VD_PLUGIN_ENTRY_SYMBOL);
    lib->desc = entry();
    vd_plugin_activity_leave(saved);
    int rc = check_descriptor(lib->desc, path, err, errlen);
    if (rc) return rc;
    if (!(lib->name = strdup(lib->desc->name))) return VD_ENOMEM;
    char perr[512] = "";
    saved = vd_plugin_activity_enter(lib, NULL, "init");
    rc = lib->desc->init(vd_plugin_host_api(), &lib->global, perr, sizeof perr);
    vd_plugin_activity_leave(saved);
    if (rc != VD_PLUGIN_OK) {
        snprintf(err, errlen, "%s: plugin '%s' failed to initialise: %s", path, lib->desc->name,
                 *perr ? perr : "no reason given");
        return VD_EINVAL;
    }
    vd_log(VD_LOG_INFO, "plugin '%s' %s loaded from %s: content xxh3-128 %s, %s%s", lib->name,
           lib->desc->version ? lib->desc->version : "", path, lib->content,
           strcmp(where, path) ? "private copy " : "in place", strcmp(where, path) ? where : "");
    return 0;
}

/* Unmaps a copy whose init() did not run or whose fini() ran, and frees it. */
static void discard(vd_plugin_lib_t *lib) {
    if (lib->dl) {
        vd_plugin_activity_t saved = vd_plugin_activity_enter(lib, NULL, "unload (destructors)");
        dlclose(lib->dl);
        vd_plugin_activity_leave(saved);
    }
    /* The loader finds loaded objects by the name they were opened with: while one stays
     * (dlclose may keep it), its /proc/self/fd/N must not name another copy. */
    char where[32];
    snprintf(where, sizeof where, "/proc/self/fd/%d", lib->fd);
    void *kept = lib->fd >= 0 && lib->dl ? dlopen(where, RTLD_LAZY | RTLD_NOLOAD) : NULL;
    if (kept)
        dlclose(kept);
    else if (lib->fd >= 0)
        close(lib->fd);
    free(lib->path);
    free(lib->name);
    free(lib);
}

/* A new copy of bytes, loaded and initialised, or NULL with err. */
static vd_plugin_lib_t *load_new(vd_plugin_registry_t *r, const char *path,
                                 const vd_file_bytes_t *bytes, int *rc, char *err, size_t errlen) {
    vd_plugin_lib_t *lib = calloc(1, sizeof *lib);
    if (!lib || !(lib->path = strdup(path))) {
        free(lib);
        *rc = VD_ENOMEM;
        return NULL;
    }
    lib->fd = -1;
    lib->refs = 1;
    lib->registry = r;
    memcpy(lib->content, bytes->content, sizeof lib->content);
    if ((*rc = load(lib, bytes, err, errlen)) != 0) {
        discard(lib);
        return NULL;
    }
    return lib;
}

int vd_plugin_registry_open(vd_plugin_registry_t *r, const char *name, const char *policy_dir,
                            vd_plugin_lib_t **out, char *err, size_t errlen) {
    char path[PATH_MAX], real[PATH_MAX];
    *out = NULL;
    int rc = resolve(r, name, policy_dir, path, sizeof path, err, errlen);
    if (rc) return rc;
    if (!realpath(path, real)) snprintf(real, sizeof real, "%s", path);
    vd_file_bytes_t bytes;
    if ((rc = vd_file_bytes_read(real, &bytes, err, errlen)) != 0) return rc;
    pthread_mutex_lock(&r->lock);
    vd_plugin_lib_t *lib = r->libs;
    while (lib && strcmp(lib->content, bytes.content) != 0)
        lib = lib->next;
    if (lib) {
        lib->refs++;
    } else if ((lib = load_new(r, real, &bytes, &rc, err, errlen))) {
        lib->next = r->libs;
        r->libs = lib;
    }
    pthread_mutex_unlock(&r->lock);
    vd_file_bytes_free(&bytes);
    if (rc == VD_ENOMEM) snprintf(err, errlen, "out of memory loading plugin '%s'", name);
    *out = lib;
    return rc;
}

static void run_fini(vd_plugin_lib_t *lib) {
    if (!lib->desc->fini) return;
    vd_plugin_activity_t saved = vd_plugin_activity_enter(lib, NULL, "fini");
    lib->desc->fini(lib->global);
    vd_plugin_activity_leave(saved);
}

void vd_plugin_lib_ref(vd_plugin_lib_t *lib) {
    pthread_mutex_lock(&lib->registry->lock);
    lib->refs++;
    pthread_mutex_unlock(&lib->registry->lock);
}

void vd_plugin_lib_unref(vd_plugin_lib_t *lib) {
    if (!lib) return;
    vd_plugin_registry_t *r = lib->registry;
    pthread_mutex_lock(&r->lock);
    int last = --lib->refs == 0;
    if (last) {
        vd_plugin_lib_t **p = &r->libs;
        while (*p != lib)
            p = &(*p)->next;
        *p = lib->next;
    }
    pthread_mutex_unlock(&r->lock);
    if (!last) return;
    vd_log(VD_LOG_DEBUG, "plugin '%s' unloaded: no stage uses content %s any more", lib->name,
           lib->content);
    run_fini(lib);
    discard(lib);
}

void vd_plugin_registry_close(vd_plugin_registry_t *r) {
    for (vd_plugin_lib_t *lib = r->libs, *next; lib; lib = next) {
        next = lib->next;
        run_fini(lib);
        /* Still referenced: a stage may yet run it, so it stays mapped (and its fd open). */
        free(lib->path);
        free(lib->name);
        free(lib);
    }
    r->libs = NULL;
    for (size_t i = 0; i < r->ndirs; i++)
        free(r->dirs[i]);
    free(r->dirs);
    pthread_mutex_destroy(&r->lock);
}
