#include "registry.h"

#include "base/error.h"
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

static int load(const char *path, vd_plugin_lib_t *lib, char *err, size_t errlen) {
    lib->dl = dlopen(path, RTLD_NOW | RTLD_LOCAL);
    if (!lib->dl) {
        snprintf(err, errlen, "%s: cannot load: %s", path, dlerror());
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
    lib->desc = entry();
    int rc = check_descriptor(lib->desc, path, err, errlen);
    if (rc) return rc;
    char perr[512] = "";
    if (lib->desc->init(vd_plugin_host_api(), &lib->global, perr, sizeof perr) != VD_PLUGIN_OK) {
        snprintf(err, errlen, "%s: plugin '%s' failed to initialise: %s", path, lib->desc->name,
                 *perr ? perr : "no reason given");
        return VD_EINVAL;
    }
    return 0;
}

int vd_plugin_registry_open(vd_plugin_registry_t *r, const char *name, const char *policy_dir,
                            vd_plugin_lib_t **out, char *err, size_t errlen) {
    char path[PATH_MAX], real[PATH_MAX];
    int rc = resolve(r, name, policy_dir, path, sizeof path, err, errlen);
    if (rc) return rc;
    if (!realpath(path, real)) snprintf(real, sizeof real, "%s", path);
    pthread_mutex_lock(&r->lock);
    vd_plugin_lib_t *lib = r->libs;
    while (lib && strcmp(lib->path, real) != 0)
        lib = lib->next;
    if (!lib) {
        lib = calloc(1, sizeof *lib);
        rc = !lib || !(lib->path = strdup(real)) ? VD_ENOMEM : load(real, lib, err, errlen);
        if (rc == 0) {
            lib->next = r->libs;
            r->libs = lib;
        } else if (lib) {
            if (lib->dl) dlclose(lib->dl);
            free(lib->path);
            free(lib);
            lib = NULL;
        }
    }
    pthread_mutex_unlock(&r->lock);
    if (rc == VD_ENOMEM) snprintf(err, errlen, "out of memory loading plugin '%s'", name);
    *out = lib;
    return rc;
}

void vd_plugin_registry_close(vd_plugin_registry_t *r) {
    for (vd_plugin_lib_t *lib = r->libs, *next; lib; lib = next) {
        next = lib->next;
        if (lib->desc->fini) lib->desc->fini(lib->global);
        /* Not dlclose'd: a plugin thread still finishing would run unmapped code. */
        free(lib->path);
        free(lib);
    }
    r->libs = NULL;
    for (size_t i = 0; i < r->ndirs; i++)
        free(r->dirs[i]);
    free(r->dirs);
    pthread_mutex_destroy(&r->lock);
}
