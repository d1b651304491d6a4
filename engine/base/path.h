/* Paths policies may name: the check that keeps them inside the directories they are allowed
 * to read. */
#ifndef VD_BASE_PATH_H
#define VD_BASE_PATH_H

#include <stddef.h>

/* 1 when resolved (a path realpath() made) lies inside the directory dir, which is resolved
 * here too (links followed); 0 otherwise, or when dir is NULL or does not exist. */
int vd_path_within(const char *resolved, const char *dir);

/* path made absolute against the working directory into out (cap bytes), so that it means the
 * same to code that runs elsewhere (policies join it with file names that plugins resolve).
 * Returns 0, or -1 when it does not fit. */
int vd_path_absolute(const char *path, char *out, size_t cap);

#endif
