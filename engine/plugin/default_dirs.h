/* Where plugin "name" is looked up when no --plugin-dir is given: beside the program (a build
 * tree: build/bin -> build/plugins; an installation moved elsewhere: PREFIX/bin ->
 * PREFIX/lib/verdict/plugins), then the directory the build installs plugins into. Shared by
 * verdictd and the verdict command's offline subcommands. */
#ifndef VD_PLUGIN_DEFAULT_DIRS_H
#define VD_PLUGIN_DEFAULT_DIRS_H

#include <limits.h>
#include <stddef.h>

typedef struct vd_plugin_dirs {
    const char *dirs[3];
    size_t n;
    char build[PATH_MAX], prefix[PATH_MAX];
} vd_plugin_dirs_t;

/* Fills d with the default directories, install_dir last. */
void vd_plugin_default_dirs(vd_plugin_dirs_t *d, const char *install_dir);

#endif
