#include "source.h"

#include "base/error.h"
#include "base/path.h"

#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <xxhash.h>

#define MAX_FILES       10000
#define MAX_TOTAL_BYTES (512u << 20)
#define MAX_DEPTH       8

typedef struct reader {
    vd_policy_src_t *src;
    char root[PATH_MAX]; /* the policy directory, resolved */
    size_t cap;
    size_t total;
    char *err;
    size_t errlen;
} reader_t;

static int read_file(reader_t *r, const char *full, const char *rel, size_t size) {
    if (r->src->nfiles >= MAX_FILES || r->total + size > MAX_TOTAL_BYTES) {
        snprintf(r->err, r->errlen, "%s: policy directory too large (over %d files or %u MiB)",
                 full, MAX_FILES, MAX_TOTAL_BYTES >> 20);
        return VD_ELIMIT;
    }
    if (r->src->nfiles == r->cap) {
        size_t cap = r->cap ? r->cap * 2 : 32;
        vd_src_file_t *f = realloc(r->src->files, cap * sizeof *f);
        if (!f) return VD_ENOMEM;
        r->src->files = f;
        r->cap = cap;
    }
    FILE *fp = fopen(full, "rb");
    char *data = malloc(size + 1);
    size_t got = fp && data ? fread(data, 1, size, fp) : 0;
    if (fp) fclose(fp);
    if (!data || got != size) {
        free(data);
        snprintf(r->err, r->errlen, "%s: cannot read: %s", full, strerror(errno ? errno : EIO));
        return VD_EIO;
    }
    data[size] = '\0';
    vd_src_file_t *f = &r->src->files[r->src->nfiles];
    if (!(f->path = strdup(rel))) {
        free(data);
        return VD_ENOMEM;
    }
    f->data = data;
    f->len = size;
    r->src->nfiles++;
    r->total += size;
    return 0;
}

/* 1 when the link at path leads to a place inside the policy directory (or nowhere). */
static int link_inside(const reader_t *r, const char *path) {
    char to[PATH_MAX];
    if (!realpath(path, to)) return 1; /* dangling: skipped, nothing is read */
    return vd_path_within(to, r->root);
}

static int walk(reader_t *r, const char *dir, const char *rel, int depth) {
    DIR *d = opendir(dir);
    if (!d) {
        snprintf(r->err, r->errlen, "%s: cannot open policy directory: %s", dir, strerror(errno));
        return VD_EIO;
    }
    int rc = 0;
    struct dirent *de;
    while (rc == 0 && (de = readdir(d))) {
        if (de->d_name[0] == '.') continue;
        char full[4096], sub[4096];
        snprintf(full, sizeof full, "%s/%s", dir, de->d_name);
        snprintf(sub, sizeof sub, "%s%s%s", rel, *rel ? "/" : "", de->d_name);
        struct stat st;
        if (lstat(full, &st) == 0 && S_ISLNK(st.st_mode) && !link_inside(r, full)) {
            snprintf(r->err, r->errlen,
                     "%s: a link to outside the policy directory; policies read files only "
                     "inside it and the data directory (--data-dir)",
                     full);
            rc = VD_EPOLICY;
            break;
        }
        if (stat(full, &st) != 0) continue; /* dangling link: nothing to read */
        if (S_ISDIR(st.st_mode) && depth < MAX_DEPTH)
            rc = walk(r, full, sub, depth + 1);
        else if (S_ISREG(st.st_mode) && !vd_policy_src_is_test(de->d_name))
            rc = read_file(r, full, sub, (size_t)st.st_size);
    }
    closedir(d);
    return rc;
}

static int by_path(const void *a, const void *b) {
    return strcmp(((const vd_src_file_t *)a)->path, ((const vd_src_file_t *)b)->path);
}

int vd_policy_src_read(const char *dir, vd_policy_src_t **out, char *err, size_t errlen) {
    vd_policy_src_t *src = calloc(1, sizeof *src);
    if (!src || !(src->dir = strdup(dir))) {
        free(src);
        return VD_ENOMEM;
    }
    atomic_init(&src->refs, 1);
    reader_t r = {.src = src, .err = err, .errlen = errlen};
    if (!realpath(dir, r.root)) snprintf(r.root, sizeof r.root, "%s", dir);
    int rc = walk(&r, dir, "", 0);
    if (rc != 0) {
        if (rc == VD_ENOMEM) snprintf(err, errlen, "%s: out of memory", dir);
        vd_policy_src_unref(src);
        return rc;
    }
    qsort(src->files, src->nfiles, sizeof *src->files, by_path);
    XXH3_state_t *h = XXH3_createState();
    if (!h) {
        vd_policy_src_unref(src);
        return VD_ENOMEM;
    }
    XXH3_64bits_reset(h);
    for (size_t i = 0; i < src->nfiles; i++) {
        XXH3_64bits_update(h, src->files[i].path, strlen(src->files[i].path) + 1);
        XXH3_64bits_update(h, src->files[i].data, src->files[i].len);
    }
    snprintf(src->version, sizeof src->version, "%016llx",
             (unsigned long long)XXH3_64bits_digest(h));
    XXH3_freeState(h);
    *out = src;
    return 0;
}

int vd_policy_src_is_test(const char *name) {
    static const char suffix[] = "_test.lua";
    size_t n = strlen(name), m = sizeof suffix - 1;
    return n >= m && strcmp(name + n - m, suffix) == 0;
}

const vd_src_file_t *vd_policy_src_find(const vd_policy_src_t *src, const char *path) {
    vd_src_file_t key = {.path = (char *)path};
    return bsearch(&key, src->files, src->nfiles, sizeof key, by_path);
}

void vd_policy_src_ref(vd_policy_src_t *src) {
    atomic_fetch_add(&src->refs, 1);
}

void vd_policy_src_unref(vd_policy_src_t *src) {
    if (!src || atomic_fetch_sub(&src->refs, 1) != 1) return;
    for (size_t i = 0; i < src->nfiles; i++) {
        free(src->files[i].path);
        free(src->files[i].data);
    }
    free(src->files);
    free(src->dir);
    free(src);
}
