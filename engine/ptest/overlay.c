#include "overlay.h"

#include "base/error.h"
#include "policy/source.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define MAX_DEPTH 8 /* as the policy loader */

static int io_error(const char *path, char *err, size_t errlen) {
    snprintf(err, errlen, "%s: %s", path, strerror(errno));
    return VD_EIO;
}

static int copy_file(const char *from, const char *to, char *err, size_t errlen) {
    int in = open(from, O_RDONLY | O_CLOEXEC);
    if (in < 0) return io_error(from, err, errlen);
    int out = open(to, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (out < 0) {
        close(in);
        return io_error(to, err, errlen);
    }
    char buf[65536];
    ssize_t n;
    int rc = 0;
    while (rc == 0 && (n = read(in, buf, sizeof buf)) != 0) {
        if (n < 0 || write(out, buf, (size_t)n) != n) rc = io_error(n < 0 ? from : to, err, errlen);
    }
    close(in);
    if (close(out) != 0 && rc == 0) rc = io_error(to, err, errlen);
    return rc;
}

static int copy_tree(const char *from, const char *to, int depth, char *err, size_t errlen) {
    DIR *d = opendir(from);
    if (!d) return io_error(from, err, errlen);
    int rc = 0;
    struct dirent *de;
    while (rc == 0 && (de = readdir(d))) {
        if (de->d_name[0] == '.') continue;
        char src[PATH_MAX], dst[PATH_MAX];
        struct stat st;
        if ((size_t)snprintf(src, sizeof src, "%s/%s", from, de->d_name) >= sizeof src ||
            (size_t)snprintf(dst, sizeof dst, "%s/%s", to, de->d_name) >= sizeof dst ||
            stat(src, &st) != 0)
            continue; /* what the loader could not read either */
        if (S_ISDIR(st.st_mode) && depth < MAX_DEPTH) {
            if (mkdir(dst, 0700) != 0) rc = io_error(dst, err, errlen);
            if (rc == 0) rc = copy_tree(src, dst, depth + 1, err, errlen);
        } else if (S_ISREG(st.st_mode) && !vd_policy_src_is_test(de->d_name)) {
            rc = copy_file(src, dst, err, errlen);
        }
    }
    closedir(d);
    return rc;
}

/* Writes the entries of l into the copy's file: in its place, or after its lines. */
static int change_list(const char *path, const vd_ptest_list_t *l, char *err, size_t errlen) {
    FILE *f = fopen(path, l->replace ? "w" : "a");
    if (!f) return io_error(path, err, errlen);
    if (!l->replace) fputc('\n', f); /* the file's last line may have no line break */
    for (size_t i = 0; i < l->nentries; i++)
        fprintf(f, "%s\n", l->entries[i]);
    return fclose(f) == 0 ? 0 : io_error(path, err, errlen);
}

int vd_ptest_overlay_make(const char *dir, const vd_ptest_case_t *c, char out[PATH_MAX],
                          size_t *bad, char *err, size_t errlen) {
    out[0] = '\0';
    for (uint32_t i = 0; i < c->lists.len; i++) {
        char path[PATH_MAX];
        struct stat st;
        snprintf(path, sizeof path, "%s/%s", dir, VD_VEC_AT(c->lists, vd_ptest_list_t, i).path);
        if (stat(path, &st) != 0 || !S_ISREG(st.st_mode)) {
            *bad = i;
            return VD_ENOTFOUND;
        }
    }
    const char *tmp = getenv("TMPDIR");
    snprintf(out, PATH_MAX, "%s/vd-test-XXXXXX", tmp && *tmp ? tmp : "/tmp");
    if (!mkdtemp(out)) {
        int rc = io_error(out, err, errlen);
        out[0] = '\0';
        return rc;
    }
    int rc = copy_tree(dir, out, 0, err, errlen);
    for (uint32_t i = 0; i < c->lists.len && rc == 0; i++) {
        const vd_ptest_list_t *l = &VD_VEC_AT(c->lists, vd_ptest_list_t, i);
        char path[PATH_MAX];
        snprintf(path, sizeof path, "%s/%s", out, l->path);
        rc = change_list(path, l, err, errlen);
    }
    return rc;
}

static int remove_one(const char *path, const struct stat *st, int flag, struct FTW *ftw) {
    (void)st, (void)flag, (void)ftw;
    remove(path);
    return 0;
}

void vd_ptest_overlay_remove(const char *path) {
    if (path[0]) nftw(path, remove_one, 16, FTW_DEPTH | FTW_PHYS);
}
