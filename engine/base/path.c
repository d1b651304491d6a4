#include "path.h"

#include <limits.h>
#include <stdlib.h>
#include <string.h>

int vd_path_within(const char *resolved, const char *dir) {
    char root[PATH_MAX];
    if (!dir || !realpath(dir, root)) return 0;
    size_t n = strlen(root);
    if (n == 1) return 1; /* "/" holds everything */
    return strncmp(resolved, root, n) == 0 && (resolved[n] == '/' || resolved[n] == '\0');
}
