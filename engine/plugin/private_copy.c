#include "private_copy.h"

#include "base/error.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#include <xxhash.h>

#ifndef MFD_EXEC
#define MFD_EXEC 0x0010U /* Linux 6.3: asks for an executable memfd where vm.memfd_noexec=1 */
#endif

#define MAX_PLUGIN_BYTES ((size_t)1 << 30)

static int fail_errno(char *err, size_t errlen, const char *path, const char *what, int code) {
    snprintf(err, errlen, "%s: %s: %s", path, what, strerror(errno));
    return code;
}

/* Reads fd to its end; the file may have grown or shrunk since fstat. */
static int read_all(int fd, size_t hint, vd_file_bytes_t *b) {
    size_t cap = hint ? hint + 1 : 65536;
    if (!(b->data = malloc(cap))) return VD_ENOMEM;
    for (;;) {
        if (b->len == cap) {
            if (cap >= MAX_PLUGIN_BYTES) return VD_ELIMIT;
            unsigned char *more = realloc(b->data, cap *= 2);
            if (!more) return VD_ENOMEM;
            b->data = more;
        }
        ssize_t n = read(fd, b->data + b->len, cap - b->len);
        if (n == 0) return 0;
        if (n < 0 && errno != EINTR) return VD_EIO;
        if (n > 0) b->len += (size_t)n;
    }
}

int vd_file_bytes_read(const char *path, vd_file_bytes_t *out, char *err, size_t errlen) {
    memset(out, 0, sizeof *out);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return fail_errno(err, errlen, path, "cannot open", VD_EIO);
    struct stat st;
    int rc = fstat(fd, &st) != 0 ? VD_EIO : !S_ISREG(st.st_mode) ? VD_EINVAL : 0;
    if (rc == 0) rc = read_all(fd, (size_t)st.st_size, out);
    if (rc == VD_EIO) fail_errno(err, errlen, path, "cannot read", rc);
    close(fd);
    if (rc == VD_EINVAL) snprintf(err, errlen, "%s: not a regular file", path);
    if (rc == VD_ENOMEM) snprintf(err, errlen, "%s: out of memory reading it", path);
    if (rc == VD_ELIMIT) snprintf(err, errlen, "%s: larger than 1 GiB", path);
    if (rc) {
        vd_file_bytes_free(out);
        return rc;
    }
    XXH128_canonical_t c;
    XXH128_canonicalFromHash(&c, XXH3_128bits(out->data, out->len));
    for (size_t i = 0; i < sizeof c.digest; i++)
        snprintf(out->content + 2 * i, 3, "%02x", c.digest[i]);
    return 0;
}

void vd_file_bytes_free(vd_file_bytes_t *b) {
    free(b->data);
    memset(b, 0, sizeof *b);
}

static int write_all(int fd, const unsigned char *p, size_t n) {
    while (n > 0) {
        ssize_t w = write(fd, p, n);
        if (w < 0 && errno == EINTR) continue;
        if (w <= 0) return -1;
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

int vd_private_copy_new(const vd_file_bytes_t *b, const char *name, char *err, size_t errlen) {
    unsigned flags = MFD_CLOEXEC | MFD_ALLOW_SEALING;
    int fd = memfd_create(name, flags | MFD_EXEC);
    if (fd < 0 && errno == EINVAL) fd = memfd_create(name, flags); /* a kernel before 6.3 */
    if (fd < 0) return fail_errno(err, errlen, name, "cannot make a private copy (memfd)", VD_EIO);
    if (write_all(fd, b->data, b->len) != 0 ||
        fcntl(fd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE | F_SEAL_SEAL) != 0) {
        fail_errno(err, errlen, name, "cannot fill the private copy", VD_EIO);
        close(fd);
        return VD_EIO;
    }
    return fd;
}
