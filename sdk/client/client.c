#include "verdict/client.h"

#include "reply_reader.h"

#include <errno.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

struct vd_client {
    int fd;
    uint32_t next_msgid;
    vd__reply_reader_t replies;
    msgpack_sbuffer sbuf;
    char err[256];
};

static int fail(vd_client_t *c, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(c->err, sizeof c->err, fmt, ap);
    va_end(ap);
    return -1;
}

int vd_client_connect(const char *path, vd_client_t **out, char *err, size_t errlen) {
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    if (strlen(path) >= sizeof sa.sun_path) {
        snprintf(err, errlen, "socket path too long: %s", path);
        return -1;
    }
    memcpy(sa.sun_path, path, strlen(path) + 1);
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof sa) != 0) {
        snprintf(err, errlen, "cannot connect to %s: %s%s", path, strerror(errno),
                 errno == ENOENT || errno == ECONNREFUSED ? " (is verdictd running?)" : "");
        if (fd >= 0) close(fd);
        return -1;
    }
    vd_client_t *c = calloc(1, sizeof *c);
    if (!c) {
        close(fd);
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    c->fd = fd;
    c->next_msgid = 1;
    vd__reply_reader_init(&c->replies);
    msgpack_sbuffer_init(&c->sbuf);
    *out = c;
    return 0;
}

void vd_client_close(vd_client_t *c) {
    if (!c) return;
    close(c->fd);
    vd__reply_reader_close(&c->replies);
    msgpack_sbuffer_destroy(&c->sbuf);
    free(c);
}

static int write_all(vd_client_t *c, const char *p, size_t n) {
    while (n > 0) {
        ssize_t w = send(c->fd, p, n, MSG_NOSIGNAL);
        if (w < 0 && errno == EINTR) continue;
        if (w < 0) return fail(c, "send: %s", strerror(errno));
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

int vd_client_send(vd_client_t *c, const char *method, const char *params, size_t params_len,
                   uint32_t *msgid) {
    msgpack_packer pk;
    msgpack_sbuffer_clear(&c->sbuf);
    msgpack_packer_init(&pk, &c->sbuf, msgpack_sbuffer_write);
    *msgid = c->next_msgid++;
    msgpack_pack_array(&pk, 4);
    msgpack_pack_uint8(&pk, 0);
    msgpack_pack_uint32(&pk, *msgid);
    msgpack_pack_str_with_body(&pk, method, strlen(method));
    if (msgpack_sbuffer_write(&c->sbuf, params, params_len) != 0) return fail(c, "out of memory");
    return write_all(c, c->sbuf.data, c->sbuf.size);
}

int vd_client_recv(vd_client_t *c, vd_client_reply_t *r, int timeout_ms) {
    for (;;) {
        const char *why;
        int rc = vd__reply_reader_next(&c->replies, r, &why);
        if (rc == 0) return 0;
        if (rc < 0) return fail(c, "%s", why);
        size_t room;
        char *buf = vd__reply_reader_room(&c->replies, (size_t)64 * 1024, &room);
        if (!buf) return fail(c, "out of memory");
        struct pollfd p = {.fd = c->fd, .events = POLLIN};
        int pr = poll(&p, 1, timeout_ms);
        if (pr == 0) return fail(c, "timed out waiting for a reply");
        if (pr < 0 && errno != EINTR) return fail(c, "poll: %s", strerror(errno));
        if (pr < 0) continue;
        ssize_t n = recv(c->fd, buf, room, 0);
        if (n == 0) return fail(c, "the server closed the connection");
        if (n < 0 && errno != EINTR) return fail(c, "recv: %s", strerror(errno));
        if (n > 0) vd__reply_reader_wrote(&c->replies, (size_t)n);
    }
}

int vd_client_call(vd_client_t *c, const char *method, const char *params, size_t params_len,
                   vd_client_reply_t *reply, int timeout_ms) {
    uint32_t id;
    if (vd_client_send(c, method, params, params_len, &id) != 0) return -1;
    do {
        if (vd_client_recv(c, reply, timeout_ms) != 0) return -1;
    } while (reply->msgid != id);
    return 0;
}

const char *vd_client_error(const vd_client_t *c) {
    return c->err;
}

static void copy_field(const msgpack_object *map, const char *key, char *buf, size_t len) {
    if (len == 0) return;
    buf[0] = '\0';
    if (!map || map->type != MSGPACK_OBJECT_MAP) return;
    for (uint32_t i = 0; i < map->via.map.size; i++) {
        const msgpack_object *k = &map->via.map.ptr[i].key, *v = &map->via.map.ptr[i].val;
        if (k->type == MSGPACK_OBJECT_STR && k->via.str.size == strlen(key) &&
            memcmp(k->via.str.ptr, key, k->via.str.size) == 0 && v->type == MSGPACK_OBJECT_STR) {
            size_t n = v->via.str.size < len - 1 ? v->via.str.size : len - 1;
            memcpy(buf, v->via.str.ptr, n);
            buf[n] = '\0';
        }
    }
}

void vd_client_error_fields(const msgpack_object *error, char *code, size_t code_len, char *message,
                            size_t message_len) {
    copy_field(error, "code", code, code_len);
    copy_field(error, "message", message, message_len);
}
