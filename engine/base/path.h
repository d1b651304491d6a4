/* Paths policies may name: the check that keeps them inside the directories they are allowed
 * to read. */
#ifndef VD_BASE_PATH_H
#define VD_BASE_PATH_H

/* 1 when resolved (a path realpath() made) lies inside the directory dir, which is resolved
 * here too (links followed); 0 otherwise, or when dir is NULL or does not exist. */
int vd_path_within(const char *resolved, const char *dir);

#endif
