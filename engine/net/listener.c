#include "listener.h"

#include "base/error.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

static int fill_addr(const char *path, struct sockaddr_un *sa) {
    memset(sa, 0, sizeof *sa);
    sa->sun_family = AF_UNIX;
    if (strlen(path) >= sizeof sa->sun_path) return VD_EINVAL;
    memcpy(sa->sun_path, path, strlen(path) + 1);
    return 0;
}

/* Removes path if it is a socket nobody listens on. */
static int clear_stale(const char *path, const struct sockaddr_un *sa, char *err, size_t errlen) {
    struct stat st;
    if (lstat(path, &st) != 0) return 0;
    if (!S_ISSOCK(st.st_mode)) {
        snprintf(err, errlen, "%s exists and is not a socket; refusing to replace it", path);
        return VD_EINVAL;
    }
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) return 0;
    int live = connect(fd, (const struct sockaddr *)sa, sizeof *sa) == 0;
    close(fd);
    if (live) {
        snprintf(err, errlen, "%s is in use by a running daemon", path);
        return VD_EBUSY;
    }
    unlink(path); /* stale: left behind by a process that did not exit cleanly */
    return 0;
}

int vd_listener_open(const char *path, unsigned mode, char *err, size_t errlen) {
    struct sockaddr_un sa;
    if (fill_addr(path, &sa) != 0) {
        snprintf(err, errlen, "socket path too long (max %zu bytes): %s", sizeof sa.sun_path - 1,
                 path);
        return VD_EINVAL;
    }
    int rc = clear_stale(path, &sa, err, errlen);
    if (rc) return rc;
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        snprintf(err, errlen, "socket: %s", strerror(errno));
        return VD_EIO;
    }
    if (bind(fd, (const struct sockaddr *)&sa, sizeof sa) != 0 || chmod(path, mode) != 0 ||
        listen(fd, 1024) != 0) {
        snprintf(err, errlen, "cannot listen on %s: %s", path, strerror(errno));
        close(fd);
        return VD_EIO;
    }
    return fd;
}
