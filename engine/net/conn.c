#include "conn.h"

#include "base/error.h"
#include "base/log.h"
#include "proto/frame.h"
#include "proto/rpc.h"

#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#define READ_CHUNK ((size_t)64 * 1024)

typedef struct write {
    uv_write_t req;
    vd_conn_t *conn;
    char *data;
    size_t len;
} write_t;

static void process(vd_conn_t *c);
static void start_reading(vd_conn_t *c);

void vd_conn_hold(vd_conn_t *c) {
    c->refs++;
}

static void free_conn(vd_conn_t *c) {
    msgpack_sbuffer_destroy(&c->out);
    free(c->buf);
    free(c);
}

void vd_conn_release(vd_conn_t *c) {
    if (--c->refs == 0) free_conn(c);
}

void vd_conn_begin_op(vd_conn_t *c) {
    c->ops++;
    vd_conn_hold(c);
}

static void maybe_finish_drain(vd_conn_t *c);
static void finish_after_flush(vd_conn_t *c);
static void arm_quiet_timer(vd_conn_t *c, int progressed);

void vd_conn_end_op(vd_conn_t *c) {
    c->ops--;
    /* Inside the read loop the reply joins the others in one write at the end of the batch. */
    if (!c->closing && !c->in_process) {
        vd_conn_flush(c);
        arm_quiet_timer(c, 0);
        finish_after_flush(c);
        maybe_finish_drain(c);
    }
    vd_conn_release(c);
}

static void on_close(uv_handle_t *h) {
    vd_conn_t *c = h->data;
    vd_conn_env_t *env = c->env;
    if (c->prev)
        c->prev->next = c->next;
    else
        env->conns = c->next;
    if (c->next) c->next->prev = c->prev;
    env->nconns--;
    vd_counter_add(&env->stats->conns_open, (uint64_t)-1);
    env->on_closed(env->ud, c);
    vd_conn_release(c);
}

static void on_timer_close(uv_handle_t *h) {
    vd_conn_release(h->data);
}

void vd_conn_close(vd_conn_t *c) {
    if (c->closing) return;
    c->closing = 1;
    vd_conn_hold(c); /* released when the timer has closed too */
    uv_close((uv_handle_t *)&c->linger, on_timer_close);
    uv_close((uv_handle_t *)&c->pipe, on_close);
}

static void on_linger_timeout(uv_timer_t *t) {
    vd_conn_close(t->data);
}

/* Starts the connection's timer ms from now. The loop reads its clock once per turn, before it
 * reads and writes: after a long batch on another connection, a timer counted from that reading
 * would be due before its client had a chance to act. */
static void start_timer(vd_conn_t *c, uv_timer_cb cb, int ms) {
    uv_update_time(c->env->loop);
    uv_timer_start(&c->linger, cb, (uint64_t)ms, 0);
}

enum { TIMER_NONE, TIMER_IDLE, TIMER_FRAME, TIMER_UNREAD };

static size_t write_queue(vd_conn_t *c) {
    return uv_stream_get_write_queue_size((const uv_stream_t *)&c->pipe);
}

/* Whether the client has done what the timer waits for, unseen by the loop: sent bytes (or
 * closed), or read replies and so made room for more. After the worker was busy for longer than
 * a timeout, the loop runs due timers before it reads or writes: without this look, a client that
 * sent its next request in time would be closed with it unread, a frame completed in time would
 * count as slow. */
static int client_acted(vd_conn_t *c) {
    uv_os_fd_t fd;
    int unread = c->timer_kind == TIMER_UNREAD;
    if ((!unread && !c->reading) || uv_fileno((const uv_handle_t *)&c->pipe, &fd) != 0)
        return 0; /* input the loop would not read: looking again would not change it */
    struct pollfd p = {.fd = fd, .events = unread ? POLLOUT : POLLIN};
    return poll(&p, 1, 0) == 1 && (p.revents & (p.events | POLLHUP));
}

/* The idle, unread-replies and slow-request timeouts: a connection that holds resources without
 * using them (an idle client, one that reads none of its replies, one that sends a byte now and
 * then) is closed. A client that read part of its replies since the timer was armed is not
 * stalled: a large write completes only once whole. */
static void on_quiet_timeout(uv_timer_t *t) {
    vd_conn_t *c = t->data;
    if (c->timer_kind == TIMER_UNREAD && write_queue(c) < c->queued) {
        c->queued = write_queue(c);
        start_timer(c, on_quiet_timeout, c->env->idle_timeout_ms);
        return;
    }
    if (client_acted(c)) { /* judged again once the loop has read or written */
        start_timer(c, on_quiet_timeout, 1);
        return;
    }
    static const char *const why[] = {
        [TIMER_IDLE] = "idle past --idle-timeout-ms",
        [TIMER_FRAME] = "a request not completed within --request-timeout-ms",
        [TIMER_UNREAD] = "its replies unread for --idle-timeout-ms",
    };
    vd_log(VD_LOG_DEBUG, "closing a connection: %s", why[c->timer_kind]);
    vd_counter_add(c->timer_kind == TIMER_FRAME ? &c->env->stats->slow_closed
                                                : &c->env->stats->idle_closed,
                   1);
    vd_conn_close(c);
}

/* Arms the timer for what the connection waits for now, after a batch, a write or a decision.
 * While it reads, a frame begun must be complete within the request timeout (its clock restarts
 * only when a batch completed a frame). Replies waiting unsent must be read within the idle
 * timeout: reading stops at the reply mark and after a bad frame, and bytes left in the buffer
 * then wait for the client, they are not a slow request. No timer runs while only decisions are
 * in flight. */
static void arm_quiet_timer(vd_conn_t *c, int progressed) {
    if (c->lingering || c->closing) return;
    const vd_conn_env_t *env = c->env;
    int kind = TIMER_NONE, ms = env->idle_timeout_ms;
    if (c->len > 0 && c->reading && env->request_timeout_ms)
        kind = TIMER_FRAME, ms = env->request_timeout_ms;
    else if (c->unsent > 0 && ms)
        kind = TIMER_UNREAD;
    else if (c->len == 0 && c->ops == 0 && c->unsent == 0 && c->out.size == 0 && ms)
        kind = TIMER_IDLE;
    if (kind == TIMER_FRAME && c->timer_kind == TIMER_FRAME && !progressed) return;
    c->timer_kind = kind;
    c->queued = write_queue(c);
    if (kind == TIMER_NONE)
        uv_timer_stop(&c->linger);
    else
        start_timer(c, on_quiet_timeout, ms);
}

static void on_shutdown(uv_shutdown_t *req, int status) {
    (void)status;
    free(req);
}

/* After a fatal error reply: end our side and discard what the client still sends, so that
 * closing with unread input does not reset the connection before the client read the reply
 * (the lingering close of nginx). Bounded by a timer. */
static void linger(vd_conn_t *c) {
    if (c->lingering || c->closing) return;
    c->lingering = 1;
    c->timer_kind = TIMER_NONE;
    uv_shutdown_t *req = malloc(sizeof *req);
    if (!req || uv_shutdown(req, (uv_stream_t *)&c->pipe, on_shutdown) < 0) {
        free(req);
        vd_conn_close(c);
        return;
    }
    start_timer(c, on_linger_timeout, 2000);
    if (!c->reading) start_reading(c);
}

int vd_conn_idle(const vd_conn_t *c) {
    int pending = 0;
    uv_os_fd_t fd;
    if (uv_fileno((const uv_handle_t *)&c->pipe, &fd) == 0) ioctl(fd, FIONREAD, &pending);
    return c->len == 0 && c->unsent == 0 && c->out.size == 0 && c->ops == 0 && pending == 0;
}

/* Closes an idle connection when the worker drains. */
static void maybe_finish_drain(vd_conn_t *c) {
    if (c->env->draining && !c->closing && vd_conn_idle(c)) vd_conn_close(c);
}

/* Replies not yet written, those of the batch being read included: a client that pipelines
 * large answers (stats) and never reads is stopped at the mark within one read, not after. */
static int over_high_water(const vd_conn_t *c) {
    return c->unsent + c->out.size > c->env->write_high_water;
}

/* After a fatal frame: once every reply is written, decisions still in flight included, the
 * connection ends (lingering). */
static void finish_after_flush(vd_conn_t *c) {
    if (c->close_after_flush && !c->closing && c->unsent == 0 && c->out.size == 0 && c->ops == 0)
        linger(c);
}

static void on_write(uv_write_t *req, int status) {
    write_t *wr = (write_t *)req;
    vd_conn_t *c = wr->conn;
    c->unsent -= wr->len;
    free(wr->data);
    free(wr);
    if (status < 0 && !c->closing) {
        vd_log(VD_LOG_DEBUG, "write to client failed: %s", uv_strerror(status));
        vd_conn_close(c);
    } else if (!c->closing) {
        arm_quiet_timer(c, 0);
        if (c->close_after_flush)
            finish_after_flush(c);
        else if (!c->reading && c->unsent <= c->env->write_high_water / 2)
            process(c);
        maybe_finish_drain(c);
    }
    vd_conn_release(c);
}

void vd_conn_flush(vd_conn_t *c) {
    if (c->out.size == 0 || c->closing) return;
    write_t *wr = malloc(sizeof *wr);
    if (!wr) {
        vd_log(VD_LOG_ERROR, "out of memory writing a reply; closing the connection");
        vd_conn_close(c);
        return;
    }
    wr->conn = c;
    wr->len = c->out.size;
    wr->data = msgpack_sbuffer_release(&c->out);
    uv_buf_t b = uv_buf_init(wr->data, (unsigned)wr->len);
    c->unsent += wr->len;
    vd_counter_add(&c->env->stats->bytes_out, wr->len);
    int rc = uv_write(&wr->req, (uv_stream_t *)&c->pipe, &b, 1, on_write);
    if (rc < 0) {
        c->unsent -= wr->len;
        free(wr->data);
        free(wr);
        vd_conn_close(c);
        return;
    }
    vd_conn_hold(c); /* until on_write, which libuv never calls from within uv_write */
}

/* A frame that cannot be read (not framed, or over the size limit): answer where a msgid is
 * visible, then end the connection, but only after the replies to what came before it are
 * written, those of decisions still waiting for a plugin or Redis included. */
static void fatal_frame(vd_conn_t *c, const char *at, size_t avail, vd_rpc_err_t code,
                        const char *msg) {
    uint32_t msgid;
    vd_counter_add(&c->env->errors[code], 1);
    if (vd_frame_peek_msgid((const uint8_t *)at, avail, &msgid) == 0)
        vd_rpc_pack_error(&c->pk, msgid, code, msg);
    else
        vd_log(VD_LOG_DEBUG, "ending a connection: %s (no msgid to reply to)", msg);
    c->close_after_flush = 1;
    vd_conn_flush(c);
    finish_after_flush(c);
}

/* Reads while the unsent replies are under their mark. After a fatal frame nothing is read until
 * the lingering close discards what still comes: a client that kept sending without reading its
 * replies would otherwise grow the buffer without end while they wait. */
static void set_reading(vd_conn_t *c) {
    if (c->closing || c->lingering) return;
    int want = !c->close_after_flush && !over_high_water(c);
    if (want && !c->reading) {
        start_reading(c);
    } else if (!want && c->reading) {
        uv_read_stop((uv_stream_t *)&c->pipe);
        c->reading = 0;
        if (!c->close_after_flush) vd_counter_add(&c->env->stats->read_pauses, 1);
    }
}

/* Handles every complete frame in the buffer while the reply queue is below its mark. */
static void process(vd_conn_t *c) {
    size_t off = 0, limit = c->env->max_request;
    c->env->on_batch(c->env->ud);
    c->in_process = 1;
    while (!c->closing && !c->close_after_flush && !over_high_water(c)) {
        size_t flen;
        /* A frame arriving in pieces is scanned from where its last piece ended. */
        int rc =
            vd_frame_scan_more(&c->scan, (const uint8_t *)c->buf + off, c->len - off, limit, &flen);
        if (rc == VD_EAGAIN) break;
        if (rc == VD_ETOOLARGE) {
            char msg[96];
            snprintf(msg, sizeof msg, "request larger than the limit of %zu bytes", limit);
            fatal_frame(c, c->buf + off, c->len - off, VD_RPC_TOO_LARGE, msg);
            break;
        }
        if (rc != 0) {
            fatal_frame(c, c->buf + off, c->len - off, VD_RPC_BAD_REQUEST, "not valid msgpack");
            break;
        }
        c->env->on_frame(c->env->ud, c, c->buf + off, flen);
        off += flen;
    }
    c->in_process = 0;
    if (c->close_after_flush) {
        c->len = 0; /* nothing after bytes that cannot be framed is ever used */
        memset(&c->scan, 0, sizeof c->scan);
    } else if (off > 0) {
        memmove(c->buf, c->buf + off, c->len - off);
        c->len -= off;
    }
    /* An idle connection keeps no read buffer, and one a large request grew goes back to a
     * chunk: thousands of quiet clients cost their sockets, not 64 KiB to 2 MiB each. */
    if (c->len == 0 || (c->cap > 2 * READ_CHUNK && c->len <= READ_CHUNK)) {
        char *nb = c->len == 0 ? NULL : realloc(c->buf, READ_CHUNK);
        if (c->len == 0 || nb) {
            if (c->len == 0) free(c->buf);
            c->buf = nb;
            c->cap = nb ? READ_CHUNK : 0;
        }
    }
    vd_conn_flush(c);
    set_reading(c);
    arm_quiet_timer(c, off > 0);
    maybe_finish_drain(c);
}

static void on_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *b) {
    (void)suggested;
    vd_conn_t *c = h->data;
    if (c->cap - c->len < READ_CHUNK) {
        size_t cap = c->cap ? c->cap : READ_CHUNK;
        while (cap - c->len < READ_CHUNK)
            cap *= 2;
        char *nb = realloc(c->buf, cap);
        if (!nb) {
            *b = uv_buf_init(NULL, 0); /* libuv reports UV_ENOBUFS */
            return;
        }
        c->buf = nb;
        c->cap = cap;
    }
    *b = uv_buf_init(c->buf + c->len, (unsigned)(c->cap - c->len));
}

static void on_read(uv_stream_t *s, ssize_t nread, const uv_buf_t *b) {
    (void)b;
    vd_conn_t *c = s->data;
    if (nread < 0) {
        if (nread != UV_EOF) vd_log(VD_LOG_DEBUG, "read failed: %s", uv_strerror((int)nread));
        vd_conn_close(c);
        return;
    }
    vd_counter_add(&c->env->stats->bytes_in, (uint64_t)nread);
    if (c->lingering) return; /* discarded: the buffer is reused as it is */
    c->len += (size_t)nread;
    process(c);
}

static void free_unopened(uv_handle_t *h) {
    free_conn(h->data);
}

static void start_reading(vd_conn_t *c) {
    c->reading = 1;
    uv_read_start((uv_stream_t *)&c->pipe, on_alloc, on_read);
}

/* The credentials of the process at the other end of fd, as the kernel recorded them when it
 * connected: what the admin socket's change log names. */
static void read_peer(int fd, vd_peer_t *p) {
    struct ucred cred;
    socklen_t len = sizeof cred;
    if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) != 0 || len != sizeof cred) return;
    p->uid = cred.uid;
    p->gid = cred.gid;
    p->pid = cred.pid;
    p->known = 1;
}

int vd_conn_open(vd_conn_env_t *env, int fd, int admin) {
    vd_conn_t *c = calloc(1, sizeof *c);
    if (!c) {
        close(fd);
        return VD_ENOMEM;
    }
    c->peer.admin = admin;
    if (admin) read_peer(fd, &c->peer);
    c->env = env;
    c->refs = 1;
    msgpack_sbuffer_init(&c->out);
    msgpack_packer_init(&c->pk, &c->out, msgpack_sbuffer_write);
    uv_pipe_init(env->loop, &c->pipe, 0);
    c->pipe.data = c;
    uv_timer_init(env->loop, &c->linger);
    c->linger.data = c;
    int rc = uv_pipe_open(&c->pipe, fd);
    if (rc < 0) {
        vd_log(VD_LOG_WARN, "cannot adopt a client socket: %s", uv_strerror(rc));
        close(fd);
        c->closing = 1;
        uv_close((uv_handle_t *)&c->linger, NULL);
        uv_close((uv_handle_t *)&c->pipe, free_unopened);
        return VD_EIO;
    }
    c->next = env->conns;
    if (env->conns) env->conns->prev = c;
    env->conns = c;
    env->nconns++;
    vd_counter_add(&env->stats->conns_total, 1);
    vd_counter_add(&env->stats->conns_open, 1);
    start_reading(c);
    arm_quiet_timer(c, 0); /* a client that connects and sends nothing is idle too */
    return 0;
}
