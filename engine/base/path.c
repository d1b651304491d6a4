#include "path.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int vd_path_within(const char *resolved, const char *dir) {
    char root[PATH_MAX];
    if (!dir || !realpath(dir, root)) return 0;
    size_t n = strlen(root);
    if (n == 1) return 1; /* "/" holds everything */
    return strncmp(resolved, root, n) == 0 && (resolved[n] == '/' || resolved[n] == '\0');
}

int vd_path_absolute(const char *path, char *out, size_t cap) {
    char cwd[PATH_MAX];
    if (path[0] == '/' || !getcwd(cwd, sizeof cwd)) {
        int n = snprintf(out, cap, "%s", path);
        return n >= 0 && (size_t)n < cap ? 0 : -1;
    }
    if (path[0] == '.' && path[1] == '/') path += 2;
    int n = snprintf(out, cap, "%s/%s", cwd, path);
    return n >= 0 && (size_t)n < cap ? 0 : -1;
}
