#include "metrics_http.h"

#include "base/error.h"
#include "base/log.h"
#include "http_request.h"
#include "prometheus.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define REQUEST_MAX       4096
#define CLIENT_TIMEOUT_MS 10000
/* Metrics clients at once: a scraper needs one or two; more would only take descriptors the
 * decision socket needs. Past it a client gets 503 and is closed at once. */
#define MAX_CLIENTS 64

struct vd_metrics {
    uv_tcp_t server;
    vd_metrics_snapshot_fn snapshot;
    void *ud;
    int stopping;
    int server_closed;
    int clients; /* open; the structure goes when the server and every client have closed */
};

typedef struct client {
    uv_tcp_t tcp;
    uv_timer_t timer;
    uv_write_t write;
    vd_metrics_t *m;
    char req[REQUEST_MAX];
    size_t len;
    char *resp;
    int handles; /* open handles; freed when both closed */
    int answered;
    int head; /* HEAD: headers only */
    int busy; /* over MAX_CLIENTS: its request is read (closing on unread bytes would reset
                 the connection before it sees the answer), then answered 503 */
} client_t;

static void on_client_closed(uv_handle_t *h) {
    client_t *c = h->data;
    if (--c->handles == 0) {
        vd_metrics_t *m = c->m;
        free(c->resp);
        free(c);
        if (--m->clients == 0 && m->server_closed) free(m);
    }
}

static void close_client(client_t *c) {
    if (!uv_is_closing((uv_handle_t *)&c->tcp)) uv_close((uv_handle_t *)&c->tcp, on_client_closed);
    if (!uv_is_closing((uv_handle_t *)&c->timer))
        uv_close((uv_handle_t *)&c->timer, on_client_closed);
}

static void on_written(uv_write_t *w, int status) {
    (void)status;
    close_client(w->data);
}

static void respond(client_t *c, const char *status, const char *type, const char *body,
                    size_t len) {
    size_t cap = len + 256;
    c->resp = malloc(cap);
    if (!c->resp) {
        close_client(c);
        return;
    }
    int n = snprintf(c->resp, cap,
                     "HTTP/1.1 %s\r\nContent-Type: %s\r\nContent-Length: %zu\r\n"
                     "Connection: close\r\n\r\n",
                     status, type, len);
    if (c->head) len = 0; /* HEAD: the same headers, Content-Length included, no body */
    memcpy(c->resp + n, body, len);
    uv_buf_t b = uv_buf_init(c->resp, (unsigned)((size_t)n + len));
    c->answered = 1;
    c->write.data = c;
    if (uv_write(&c->write, (uv_stream_t *)&c->tcp, &b, 1, on_written) < 0) close_client(c);
}

static void serve_metrics(client_t *c) {
    vd_stats_snapshot_t snap;
    char *text = NULL;
    size_t len = 0;
    int rc = c->m->snapshot(c->m->ud, &snap);
    if (rc == 0) rc = vd_prometheus_render(&snap, &text, &len);
    vd_snapshot_free(&snap);
    if (rc == 0)
        respond(c, "200 OK", "text/plain; version=0.0.4; charset=utf-8", text, len);
    else
        respond(c, "500 Internal Server Error", "text/plain", "out of memory\n", 14);
    free(text);
}

/* Answers a request read to its end (or refused before it). */
static void handle(client_t *c, vd_http_request_t r) {
    static const char not_found[] = "not found: metrics are at /metrics\n";
    static const char bad[] = "bad request\n";
    c->head = r.head;
    if (c->busy && r.verdict != VD_HTTP_BAD) {
        static const char busy[] = "too many metrics clients at once\n";
        respond(c, "503 Service Unavailable", "text/plain", busy, sizeof busy - 1);
        return;
    }
    switch (r.verdict) {
    case VD_HTTP_METRICS:
        serve_metrics(c);
        break;
    case VD_HTTP_NOT_FOUND:
        respond(c, "404 Not Found", "text/plain", not_found, sizeof not_found - 1);
        break;
    case VD_HTTP_METHOD:
        respond(c, "405 Method Not Allowed\r\nAllow: GET, HEAD", "text/plain", "use GET or HEAD\n",
                16);
        break;
    default:
        respond(c, "400 Bad Request", "text/plain", bad, sizeof bad - 1);
    }
}

static void on_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *b) {
    (void)suggested;
    client_t *c = h->data;
    *b = uv_buf_init(c->req + c->len, (unsigned)(sizeof c->req - 1 - c->len));
}

static void on_read(uv_stream_t *s, ssize_t n, const uv_buf_t *b) {
    (void)b;
    client_t *c = s->data;
    if (n < 0 || c->answered) {
        if (n < 0) close_client(c);
        return;
    }
    c->len += (size_t)n;
    vd_http_request_t r = vd_http_request_read(c->req, c->len);
    if (r.verdict != VD_HTTP_INCOMPLETE) {
        uv_read_stop(s);
        handle(c, r);
    } else if (c->len >= sizeof c->req - 1) {
        uv_read_stop(s);
        respond(c, "431 Request Header Fields Too Large", "text/plain", "too large\n", 10);
    }
}

static void on_timeout(uv_timer_t *t) {
    close_client(t->data);
}

static void on_connection(uv_stream_t *server, int status) {
    vd_metrics_t *m = server->data;
    if (status < 0 || m->stopping) return;
    client_t *c = calloc(1, sizeof *c);
    if (!c) return;
    c->m = m;
    c->handles = 2;
    m->clients++;
    uv_tcp_init(server->loop, &c->tcp);
    uv_timer_init(server->loop, &c->timer);
    c->tcp.data = c->timer.data = c;
    if (uv_accept(server, (uv_stream_t *)&c->tcp) != 0) {
        close_client(c);
        return;
    }
    c->busy = m->clients > MAX_CLIENTS; /* answered 503 once its request is read */
    uv_timer_start(&c->timer, on_timeout, CLIENT_TIMEOUT_MS, 0);
    uv_read_start((uv_stream_t *)&c->tcp, on_alloc, on_read);
}

static int parse_addr(const char *addr, struct sockaddr_storage *ss) {
    char host[128];
    const char *colon = strrchr(addr, ':');
    if (!colon || colon == addr || (size_t)(colon - addr) >= sizeof host) return -1;
    memcpy(host, addr, (size_t)(colon - addr));
    host[colon - addr] = '\0';
    char *end;
    long port = strtol(colon + 1, &end, 10);
    if (*end || port < 1 || port > 65535) return -1;
    size_t hl = strlen(host);
    if (host[0] == '[' && hl > 2 && host[hl - 1] == ']') {
        host[hl - 1] = '\0';
        return uv_ip6_addr(host + 1, (int)port, (struct sockaddr_in6 *)ss);
    }
    return uv_ip4_addr(host, (int)port, (struct sockaddr_in *)ss);
}

int vd_metrics_start(uv_loop_t *loop, vd_metrics_snapshot_fn snapshot, void *ud, const char *addr,
                     vd_metrics_t **out, char *err, size_t errlen) {
    struct sockaddr_storage ss;
    if (parse_addr(addr, &ss) != 0) {
        snprintf(err, errlen, "--metrics %s: expected HOST:PORT (127.0.0.1:9464 or [::1]:9464)",
                 addr);
        return VD_EINVAL;
    }
    vd_metrics_t *m = calloc(1, sizeof *m);
    if (!m) return VD_ENOMEM;
    m->snapshot = snapshot;
    m->ud = ud;
    uv_tcp_init(loop, &m->server);
    m->server.data = m;
    int rc = uv_tcp_bind(&m->server, (const struct sockaddr *)&ss, 0);
    if (rc == 0) rc = uv_listen((uv_stream_t *)&m->server, 64, on_connection);
    if (rc != 0) {
        snprintf(err, errlen, "--metrics %s: %s", addr, uv_strerror(rc));
        m->stopping = 1;
        uv_close((uv_handle_t *)&m->server, NULL);
        uv_run(loop, UV_RUN_NOWAIT); /* let the close complete before freeing */
        free(m);
        return VD_EIO;
    }
    *out = m;
    return 0;
}

static void on_server_closed(uv_handle_t *h) {
    vd_metrics_t *m = h->data;
    m->server_closed = 1;
    if (m->clients == 0) free(m);
}

void vd_metrics_stop(vd_metrics_t *m) {
    if (!m || m->stopping) return;
    m->stopping = 1;
    uv_close((uv_handle_t *)&m->server, on_server_closed);
}
