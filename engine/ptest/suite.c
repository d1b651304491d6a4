#include "suite.h"

#include "base/error.h"
#include "policy/source.h"
#include "reader.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define MAX_DEPTH     8          /* as the policy loader */
#define MAX_FILE_SIZE (64 << 20) /* a test file larger than this is surely not one */

void vd_ptest_suite_init(vd_ptest_suite_t *s) {
    memset(s, 0, sizeof *s);
    vd_arena_init(&s->arena);
}

void vd_ptest_suite_close(vd_ptest_suite_t *s) {
    vd_arena_close(&s->arena);
}

typedef struct found {
    char **paths;
    size_t n, cap;
} found_t;

static int add_path(found_t *f, const char *path) {
    if (f->n == f->cap) {
        size_t cap = f->cap ? f->cap * 2 : 16;
        char **p = realloc(f->paths, cap * sizeof *p);
        if (!p) return VD_ENOMEM;
        f->paths = p;
        f->cap = cap;
    }
    if (!(f->paths[f->n] = strdup(path))) return VD_ENOMEM;
    f->n++;
    return 0;
}

static int walk(found_t *f, const char *dir, int depth, char *err, size_t errlen) {
    DIR *d = opendir(dir);
    if (!d) {
        snprintf(err, errlen, "%s: cannot open the policy directory: %s", dir, strerror(errno));
        return VD_EIO;
    }
    int rc = 0;
    struct dirent *de;
    while (rc == 0 && (de = readdir(d))) {
        if (de->d_name[0] == '.') continue;
        char full[4096];
        int n = snprintf(full, sizeof full, "%s%s%s", dir, dir[strlen(dir) - 1] == '/' ? "" : "/",
                         de->d_name);
        struct stat st;
        if (n < 0 || (size_t)n >= sizeof full || stat(full, &st) != 0) continue;
        if (S_ISDIR(st.st_mode) && depth < MAX_DEPTH)
            rc = walk(f, full, depth + 1, err, errlen);
        else if (S_ISREG(st.st_mode) && vd_policy_src_is_test(de->d_name))
            rc = add_path(f, full);
    }
    closedir(d);
    return rc;
}

static int by_path(const void *a, const void *b) {
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The whole file, NUL-terminated, or NULL with err. */
static char *read_all(const char *path, size_t *len, char *err, size_t errlen) {
    FILE *f = fopen(path, "rb");
    struct stat st;
    char *data = NULL;
    if (f && fstat(fileno(f), &st) == 0 && st.st_size <= MAX_FILE_SIZE &&
        (data = malloc((size_t)st.st_size + 1))) {
        *len = fread(data, 1, (size_t)st.st_size, f);
        data[*len] = '\0';
    }
    if (!data)
        snprintf(err, errlen, "%s: cannot read: %s", path,
                 f ? "too large, or out of memory" : strerror(errno));
    if (f) fclose(f);
    return data;
}

static int read_path(vd_ptest_suite_t *s, const char *path) {
    char err[1024];
    size_t len = 0;
    char *text = read_all(path, &len, err, sizeof err);
    if (text) {
        int rc = vd_ptest_suite_read_text(s, path, text, len);
        free(text);
        return rc;
    }
    vd_ptest_file_t *f = vd_vec_push(&s->files, &s->arena, sizeof *f);
    if (!f || !(f->path = vd_arena_strndup(&s->arena, path, strlen(path))) ||
        !(f->error = vd_arena_strndup(&s->arena, err, strlen(err))))
        return VD_ENOMEM;
    f->first = s->cases.len;
    return 0;
}

int vd_ptest_suite_read_dir(vd_ptest_suite_t *s, const char *dir, char *err, size_t errlen) {
    found_t f = {0};
    int rc = walk(&f, dir, 0, err, errlen);
    if (rc == 0 && f.n) qsort(f.paths, f.n, sizeof *f.paths, by_path);
    for (size_t i = 0; i < f.n && rc == 0; i++)
        rc = read_path(s, f.paths[i]);
    if (rc == VD_ENOMEM) snprintf(err, errlen, "out of memory reading the test files");
    for (size_t i = 0; i < f.n; i++)
        free(f.paths[i]);
    free(f.paths);
    return rc;
}

int vd_ptest_suite_read_text(vd_ptest_suite_t *s, const char *display, const char *text,
                             size_t len) {
    vd_ptest_file_t *f = vd_vec_push(&s->files, &s->arena, sizeof *f);
    if (!f || !(f->path = vd_arena_strndup(&s->arena, display, strlen(display)))) return VD_ENOMEM;
    f->first = s->cases.len;
    return vd_ptest_read(s, f, text, len);
}
