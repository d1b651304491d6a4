/* A snapshot of the policy directory: every file's bytes, read once and shared by all the
 * workers that load it, so that every worker runs exactly the same policy version. */
#ifndef VD_POLICY_SOURCE_H
#define VD_POLICY_SOURCE_H

#include <stdatomic.h>
#include <stddef.h>

typedef struct vd_src_file {
    char *path; /* relative to the directory, '/'-separated */
    char *data;
    size_t len;
} vd_src_file_t;

typedef struct vd_policy_src {
    char *dir;
    vd_src_file_t *files; /* sorted by path */
    size_t nfiles;
    char version[20]; /* 16 hex digits of a hash over every path and byte */
    atomic_int refs;
} vd_policy_src_t;

/* Reads every regular file below dir (hidden entries and test files skipped; limits on count
 * and size).
 * Returns 0, or a negative VD_E* code with a message in err. The result holds one reference. */
int vd_policy_src_read(const char *dir, vd_policy_src_t **out, char *err, size_t errlen);

/* 1 when name (a file name or a path) is a policy test file, `*_test.lua`: `verdict test`
 * reads those, and the snapshot leaves them out, so tests are never loaded as policy and
 * changing one does not change the policy's version. */
int vd_policy_src_is_test(const char *name);

/* Finds a file by its relative path, or returns NULL. */
const vd_src_file_t *vd_policy_src_find(const vd_policy_src_t *src, const char *path);

void vd_policy_src_ref(vd_policy_src_t *src);
void vd_policy_src_unref(vd_policy_src_t *src);

#endif
