#include "default_dirs.h"

#include <stdio.h>
#include <string.h>
#include <unistd.h>

/* DIR/../SUB for the running executable in DIR. */
static int beside_exe(const char *sub, char *out, size_t cap) {
    char exe[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (n <= 0) return -1;
    exe[n] = '\0';
    char *slash = strrchr(exe, '/');
    if (!slash) return -1;
    *slash = '\0';
    int w = snprintf(out, cap, "%s/../%s", exe, sub);
    return w > 0 && (size_t)w < cap ? 0 : -1;
}

void vd_plugin_default_dirs(vd_plugin_dirs_t *d, const char *install_dir) {
    d->n = 0;
    if (beside_exe("plugins", d->build, sizeof d->build) == 0) d->dirs[d->n++] = d->build;
    if (beside_exe("lib/verdict/plugins", d->prefix, sizeof d->prefix) == 0)
        d->dirs[d->n++] = d->prefix;
    d->dirs[d->n++] = install_dir;
}
