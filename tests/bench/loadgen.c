/* verdict-bench: a msgpack-RPC load generator for verdictd. It keeps `depth` requests in
 * flight on each of `conns` connections for `seconds`, then prints decisions per second and
 * latency percentiles (from send to reply, on the generator's clock). */
#include "proto/frame.h"

#include <errno.h>
#include <getopt.h>
#include <msgpack.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#define POOL 512

typedef struct {
    int fd;
    int inflight;
    char *in;
    size_t inlen, incap;
    char out[1 << 16];
    size_t outlen, outoff;
} conn_t;

typedef struct {
    const char *socket, *pipeline;
    int conns, depth;
    double seconds;
} opts_t;

static int64_t now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* Realistic, varied signup-like events; the empty pipeline ignores them. */
static void pack_event(msgpack_packer *pk, int i) {
    static const char *domains[] = {
        "gmail.com",         "mailinator.com", "example.org", "yahoo.com",
        "guerrillamail.com", "outlook.com",    "proton.me",   "gmx.de"};
    static const char *agents[] = {
        "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 Chrome/120.0 Safari/537.36",
        "curl/8.4.0", "python-requests/2.31",
        "Mozilla/5.0 (iPhone; CPU iPhone OS 17_1 like Mac OS X)"};
    char ip[32], email[64], user[32];
    snprintf(ip, sizeof ip, "%d.%d.%d.%d", 11 + i % 200, (i * 7) % 256, (i * 13) % 256,
             i % 250 + 1);
    snprintf(user, sizeof user, i % 5 == 0 ? "user%08d" : "alice.smith%d", i * 7919 % 100000);
    snprintf(email, sizeof email, "%s@%s", user, domains[i % 8]);
    const char *kv[][2] = {{"ip", ip},
                           {"email", email},
                           {"username", user},
                           {"user_agent", agents[i % 4]},
                           {"country", i % 3 ? "US" : "NG"}};
    msgpack_pack_map(pk, 7);
    for (size_t k = 0; k < sizeof kv / sizeof *kv; k++) {
        msgpack_pack_str_with_body(pk, kv[k][0], strlen(kv[k][0]));
        msgpack_pack_str_with_body(pk, kv[k][1], strlen(kv[k][1]));
    }
    msgpack_pack_str_with_body(pk, "asn", 3);
    msgpack_pack_int64(pk, i % 4 ? 15169 : 14061);
    msgpack_pack_str_with_body(pk, "ts", 2);
    msgpack_pack_int64(pk, 1767225600 + i);
}

/* Packs request msgid for event number ev into buf; returns its length. */
static size_t pack_request(char *buf, size_t cap, const char *pipeline, uint32_t msgid, int ev) {
    msgpack_sbuffer sb;
    msgpack_packer pk;
    msgpack_sbuffer_init(&sb);
    msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
    msgpack_pack_array(&pk, 4);
    msgpack_pack_uint8(&pk, 0);
    msgpack_pack_uint32(&pk, msgid);
    msgpack_pack_str_with_body(&pk, "decide", 6);
    msgpack_pack_array(&pk, 2);
    msgpack_pack_str_with_body(&pk, pipeline, strlen(pipeline));
    pack_event(&pk, ev);
    size_t n = sb.size <= cap ? sb.size : 0;
    memcpy(buf, sb.data, n);
    msgpack_sbuffer_destroy(&sb);
    return n;
}

static int connect_to(const char *path) {
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    snprintf(sa.sun_path, sizeof sa.sun_path, "%s", path);
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0);
    if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof sa) != 0) {
        fprintf(stderr, "verdict-bench: cannot connect to %s: %s\n", path, strerror(errno));
        exit(1);
    }
    return fd;
}

/* Reads the msgid and whether the error slot is nil from a response frame. */
static int parse_response(const unsigned char *p, size_t n, uint32_t *msgid, int *ok) {
    if (n < 4 || p[0] != 0x94 || p[1] != 0x01) return -1;
    size_t i = 2;
    if (p[i] <= 0x7f)
        *msgid = p[i++];
    else if (p[i] == 0xcc)
        *msgid = p[i + 1], i += 2;
    else if (p[i] == 0xcd)
        *msgid = (uint32_t)(p[i + 1] << 8 | p[i + 2]), i += 3;
    else if (p[i] == 0xce)
        *msgid = (uint32_t)p[i + 1] << 24 | (uint32_t)p[i + 2] << 16 | (uint32_t)p[i + 3] << 8 |
                 p[i + 4],
        i += 5;
    else
        return -1;
    *ok = i < n && p[i] == 0xc0;
    return 0;
}

static int cmp_i64(const void *a, const void *b) {
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

int main(int argc, char **argv) {
    opts_t o = {"./verdict.sock", "signup", 4, 64, 5.0};
    struct option lo[] = {{"socket", 1, 0, 's'}, {"pipeline", 1, 0, 'p'}, {"conns", 1, 0, 'c'},
                          {"depth", 1, 0, 'd'},  {"seconds", 1, 0, 't'},  {0, 0, 0, 0}};
    int ch;
    while ((ch = getopt_long(argc, argv, "", lo, NULL)) != -1) {
        if (ch == 's')
            o.socket = optarg;
        else if (ch == 'p')
            o.pipeline = optarg;
        else if (ch == 'c')
            o.conns = (int)strtol(optarg, NULL, 10);
        else if (ch == 'd')
            o.depth = (int)strtol(optarg, NULL, 10);
        else if (ch == 't')
            o.seconds = strtod(optarg, NULL);
        else
            return fprintf(stderr, "usage: verdict-bench --socket P --pipeline N --conns C --depth "
                                   "D --seconds S\n"),
                   2;
    }
    if (o.conns < 1 || o.depth < 1 || o.seconds <= 0)
        return fprintf(stderr, "verdict-bench: bad options\n"), 2;
    size_t max_req = (size_t)(o.seconds * 2e6) + 1000;
    int64_t *sent = calloc(max_req, sizeof *sent), *lat = calloc(max_req, sizeof *lat);
    conn_t *cs = calloc((size_t)o.conns, sizeof *cs);
    struct pollfd *pfd = calloc((size_t)o.conns, sizeof *pfd);
    if (!sent || !lat || !cs || !pfd) return fprintf(stderr, "verdict-bench: out of memory\n"), 1;
    for (int i = 0; i < o.conns; i++) {
        cs[i].fd = connect_to(o.socket);
        cs[i].incap = 1 << 20;
        cs[i].in = malloc(cs[i].incap);
    }
    uint32_t next = 0;
    size_t nlat = 0, errors = 0;
    int64_t start = now_ns(), end = start + (int64_t)(o.seconds * 1e9);
    int stopping = 0;
    for (;;) {
        int64_t t = now_ns();
        if (t >= end) stopping = 1;
        int busy = 0;
        for (int i = 0; i < o.conns; i++) {
            conn_t *c = &cs[i];
            while (!stopping && c->inflight < o.depth && next < max_req &&
                   sizeof c->out - c->outlen > 512) {
                size_t n = pack_request(c->out + c->outlen, sizeof c->out - c->outlen, o.pipeline,
                                        next, (int)(next % POOL));
                sent[next++] = t;
                c->outlen += n;
                c->inflight++;
            }
            if (c->outoff < c->outlen) {
                ssize_t w = send(c->fd, c->out + c->outoff, c->outlen - c->outoff, MSG_NOSIGNAL);
                if (w > 0) c->outoff += (size_t)w;
                if (c->outoff == c->outlen) c->outoff = c->outlen = 0;
            }
            busy += c->inflight;
            pfd[i].fd = c->fd;
            pfd[i].events = POLLIN | (c->outoff < c->outlen ? POLLOUT : 0);
        }
        if (stopping && busy == 0) break;
        if (poll(pfd, (nfds_t)o.conns, 1000) <= 0) continue;
        t = now_ns();
        for (int i = 0; i < o.conns; i++) {
            conn_t *c = &cs[i];
            if (!(pfd[i].revents & (POLLIN | POLLHUP | POLLERR))) continue;
            ssize_t r = recv(c->fd, c->in + c->inlen, c->incap - c->inlen, 0);
            if (r <= 0) {
                fprintf(stderr, "verdict-bench: connection closed by the server\n");
                return 1;
            }
            c->inlen += (size_t)r;
            size_t off = 0, flen;
            while (vd_frame_scan((unsigned char *)c->in + off, c->inlen - off, 1 << 20, &flen) ==
                   0) {
                uint32_t id;
                int ok;
                if (parse_response((unsigned char *)c->in + off, flen, &id, &ok) != 0 || id >= next)
                    return fprintf(stderr, "verdict-bench: unexpected reply\n"), 1;
                errors += !ok;
                lat[nlat++] = t - sent[id];
                c->inflight--;
                off += flen;
            }
            memmove(c->in, c->in + off, c->inlen - off);
            c->inlen -= off;
        }
    }
    double secs = (double)(now_ns() - start) / 1e9;
    qsort(lat, nlat, sizeof *lat, cmp_i64);
    printf("pipeline=%-8s conns=%-3d depth=%-4d requests=%zu errors=%zu decisions/s=%.0f "
           "p50_us=%.1f p99_us=%.1f\n",
           o.pipeline, o.conns, o.depth, nlat, errors, (double)nlat / secs,
           nlat ? (double)lat[nlat / 2] / 1000.0 : 0.0,
           nlat ? (double)lat[(size_t)((double)nlat * 0.99)] / 1000.0 : 0.0);
    for (int i = 0; i < o.conns; i++) {
        close(cs[i].fd);
        free(cs[i].in);
    }
    free(cs);
    free(pfd);
    free(sent);
    free(lat);
    return errors ? 1 : 0;
}
