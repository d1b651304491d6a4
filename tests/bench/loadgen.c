/* verdict-bench: a msgpack-RPC load generator for verdictd. It keeps `depth` requests in
 * flight on each of `conns` connections for `seconds`, then prints decisions per second and
 * latency percentiles (from send to reply, on the generator's clock). With --pid it also
 * prints the daemon's CPU time (user + system, from /proc) per decision over the run.
 * Events are varied and realistic for the pipeline named: signup, login or mail (a message of
 * about 2 KB); any other pipeline gets signup events. They are packed once, before the run. */
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

typedef struct conn {
    int fd;
    int inflight;
    char *in;
    size_t inlen, incap;
    char out[1 << 16];
    size_t outlen, outoff;
} conn_t;

typedef struct opts {
    const char *socket, *pipeline;
    int conns, depth;
    double seconds;
    int pid;    /* the daemon's, for its CPU time; 0: not measured */
    long count; /* stop after this many requests (0: run for seconds) */
} opts_t;

static int64_t now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static void pack_str(msgpack_packer *pk, const char *s) {
    msgpack_pack_str_with_body(pk, s, strlen(s));
}

/* Realistic, varied signup events; the empty pipeline ignores them. */
static void pack_signup(msgpack_packer *pk, int i) {
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

/* Login attempts: a few accounts under attack from a few addresses, most logins fine. */
static void pack_login(msgpack_packer *pk, int i) {
    char ip[32], account[32];
    snprintf(ip, sizeof ip, "%d.%d.%d.%d", 31 + i % 150, (i * 11) % 256, (i * 3) % 256,
             i % 200 + 1);
    snprintf(account, sizeof account, "user%05d", i % 7 ? i * 7919 % 50000 : i % 20);
    msgpack_pack_map(pk, 6);
    pack_str(pk, "account");
    pack_str(pk, account);
    pack_str(pk, "ip");
    pack_str(pk, ip);
    pack_str(pk, "password_ok");
    i % 5 ? msgpack_pack_true(pk) : msgpack_pack_false(pk);
    pack_str(pk, "country");
    pack_str(pk, i % 9 ? "US" : "BR");
    pack_str(pk, "user_agent");
    pack_str(pk, "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 Chrome/120.0");
    pack_str(pk, "ts");
    msgpack_pack_int64(pk, 1767225600 + i);
}

/* Inbound mail of about 2 KB: header fields, the text body and the raw message. */
static void pack_mail(msgpack_packer *pk, int i) {
    static const char *const subjects[] = {"Lunch tomorrow?", "Your invoice #4471",
                                           "URGENT: YOU HAVE WON A PRIZE", "Re: project plan"};
    static const char *const froms[] = {"Alice <alice@example.org>", "billing@shop.example.com",
                                        "\"service@paypal.com\" <alert@secure-pay.xyz>",
                                        "Bob Smith <bob@example.net>"};
    static const char *const lines[] = {
        "Shall we meet at noon near the station? I can book a table for four people. ",
        "Please find attached the invoice for last month; payment is due in thirty days. ",
        "Click here to claim your lottery prize via Western Union: http://bit.ly/abc now! ",
        "I went through the plan and left comments on the schedule and the budget lines. "};
    int k = i % 4;
    char body[1600], raw[2400];
    size_t n = 0;
    while (n + strlen(lines[k]) + 1 < sizeof body - 400)
        n += (size_t)snprintf(body + n, sizeof body - n, "%s", lines[(k + n / 97) % 4]);
    snprintf(raw, sizeof raw,
             "From: %s\r\nTo: carol@example.org\r\nSubject: %s\r\nMessage-ID: <%d@example.org>"
             "\r\nDate: Mon, 1 Jan 2024 10:00:00 +0000\r\nContent-Type: text/plain; "
             "charset=utf-8\r\n\r\n%s",
             froms[k], subjects[k], i, body);
    char msgid[48];
    snprintf(msgid, sizeof msgid, "<%d@example.org>", i);
    msgpack_pack_map(pk, 6);
    pack_str(pk, "from");
    pack_str(pk, froms[k]);
    pack_str(pk, "to");
    pack_str(pk, "carol@example.org");
    pack_str(pk, "subject");
    pack_str(pk, subjects[k]);
    pack_str(pk, "headers");
    msgpack_pack_map(pk, k == 2 ? 2 : 3);
    pack_str(pk, "Message-ID");
    pack_str(pk, msgid);
    pack_str(pk, "Content-Type");
    pack_str(pk, "text/plain; charset=utf-8");
    if (k != 2) {
        pack_str(pk, "Date");
        pack_str(pk, "Mon, 1 Jan 2024 10:00:00 +0000");
    }
    pack_str(pk, "body");
    pack_str(pk, body);
    pack_str(pk, "raw");
    pack_str(pk, raw);
}

static void pack_event(msgpack_packer *pk, const char *pipeline, int i) {
    if (strcmp(pipeline, "login") == 0)
        pack_login(pk, i);
    else if (strcmp(pipeline, "mail") == 0)
        pack_mail(pk, i);
    else
        pack_signup(pk, i);
}

/* A request as sent: its msgid is packed as a uint32 at msgid_at, so that a copy can be given
 * any msgid without packing the event again. */
typedef struct packed {
    char *data;
    size_t len;
} packed_t;

static const size_t msgid_at = 3; /* after 0x94 (array of 4), 0x00 (request), 0xce */

static packed_t pack_request(const char *pipeline, int ev) {
    msgpack_sbuffer sb;
    msgpack_packer pk;
    msgpack_sbuffer_init(&sb);
    msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
    msgpack_pack_array(&pk, 4);
    msgpack_pack_uint8(&pk, 0);
    char head[] = {(char)0xce, 0, 0, 0, 0};
    msgpack_sbuffer_write(&sb, head, sizeof head);
    msgpack_pack_str_with_body(&pk, "decide", 6);
    msgpack_pack_array(&pk, 2);
    msgpack_pack_str_with_body(&pk, pipeline, strlen(pipeline));
    pack_event(&pk, pipeline, ev);
    packed_t p = {sb.data, sb.size};
    return p;
}

/* Copies request r into buf with the given msgid; returns its length, 0 when it does not fit. */
static size_t put_request(char *buf, size_t cap, const packed_t *r, uint32_t msgid) {
    if (r->len > cap) return 0;
    memcpy(buf, r->data, r->len);
    buf[msgid_at] = (char)(msgid >> 24);
    buf[msgid_at + 1] = (char)(msgid >> 16);
    buf[msgid_at + 2] = (char)(msgid >> 8);
    buf[msgid_at + 3] = (char)msgid;
    return r->len;
}

/* The daemon's CPU time (user + system) in microseconds, or -1. */
static double cpu_us(int pid) {
    char path[64], buf[1024];
    snprintf(path, sizeof path, "/proc/%d/stat", pid);
    FILE *f = fopen(path, "r");
    if (!f) return -1;
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = '\0';
    const char *p = strrchr(buf, ')'); /* the command name may hold spaces */
    unsigned long long utime, stime;
    if (!p ||
        sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu", &utime, &stime) != 2)
        return -1;
    return (double)(utime + stime) * 1e6 / (double)sysconf(_SC_CLK_TCK);
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
    opts_t o = {"./verdict.sock", "signup", 4, 64, 5.0, 0, 0};
    struct option lo[] = {
        {"socket", 1, 0, 's'},  {"pipeline", 1, 0, 'p'}, {"conns", 1, 0, 'c'}, {"depth", 1, 0, 'd'},
        {"seconds", 1, 0, 't'}, {"pid", 1, 0, 'P'},      {"count", 1, 0, 'n'}, {0, 0, 0, 0}};
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
        else if (ch == 'P')
            o.pid = (int)strtol(optarg, NULL, 10);
        else if (ch == 'n')
            o.count = strtol(optarg, NULL, 10);
        else
            return fprintf(stderr, "usage: verdict-bench --socket P --pipeline N --conns C --depth "
                                   "D --seconds S [--count N] [--pid DAEMON_PID]\n"),
                   2;
    }
    if (o.conns < 1 || o.depth < 1 || o.seconds <= 0)
        return fprintf(stderr, "verdict-bench: bad options\n"), 2;
    size_t max_req = o.count > 0 ? (size_t)o.count : (size_t)(o.seconds * 2e6) + 1000;
    int64_t *sent = calloc(max_req, sizeof *sent), *lat = calloc(max_req, sizeof *lat);
    conn_t *cs = calloc((size_t)o.conns, sizeof *cs);
    struct pollfd *pfd = calloc((size_t)o.conns, sizeof *pfd);
    if (!sent || !lat || !cs || !pfd) return fprintf(stderr, "verdict-bench: out of memory\n"), 1;
    for (int i = 0; i < o.conns; i++) {
        cs[i].fd = connect_to(o.socket);
        cs[i].incap = 1 << 20;
        cs[i].in = malloc(cs[i].incap);
    }
    packed_t *pool = calloc(POOL, sizeof *pool);
    if (!pool) return fprintf(stderr, "verdict-bench: out of memory\n"), 1;
    for (int i = 0; i < POOL; i++)
        pool[i] = pack_request(o.pipeline, i);
    uint32_t next = 0;
    size_t nlat = 0, errors = 0;
    double cpu0 = o.pid ? cpu_us(o.pid) : -1;
    int64_t start = now_ns(), end = start + (int64_t)(o.seconds * 1e9);
    int stopping = 0;
    for (;;) {
        int64_t t = now_ns();
        if (t >= end || (o.count > 0 && next >= (size_t)o.count)) stopping = 1;
        int busy = 0;
        for (int i = 0; i < o.conns; i++) {
            conn_t *c = &cs[i];
            while (!stopping && c->inflight < o.depth && next < max_req) {
                size_t n = put_request(c->out + c->outlen, sizeof c->out - c->outlen,
                                       &pool[next % POOL], next);
                if (!n) break;
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
    double cpu1 = o.pid ? cpu_us(o.pid) : -1;
    qsort(lat, nlat, sizeof *lat, cmp_i64);
    printf("pipeline=%-8s conns=%-3d depth=%-4d requests=%zu errors=%zu decisions/s=%.0f "
           "p50_us=%.1f p99_us=%.1f",
           o.pipeline, o.conns, o.depth, nlat, errors, (double)nlat / secs,
           nlat ? (double)lat[nlat / 2] / 1000.0 : 0.0,
           nlat ? (double)lat[(size_t)((double)nlat * 0.99)] / 1000.0 : 0.0);
    if (cpu0 >= 0 && cpu1 >= 0 && nlat)
        printf(" cpu_us/decision=%.2f", (cpu1 - cpu0) / (double)nlat);
    printf("\n");
    for (int i = 0; i < POOL; i++)
        free(pool[i].data);
    free(pool);
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
