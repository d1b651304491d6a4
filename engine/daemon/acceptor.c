#include "acceptor.h"

#include "base/clock.h"
#include "base/log.h"
#include "engine.h"
#include "net/listener.h"
#include "worker.h"

#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

int vd_acceptor_open(vd_engine_t *e, char *err, size_t errlen) {
    vd_acceptor_t *a = &e->acceptor;
    const vd_config_t *c = &e->cfg;
    const char *paths[VD_LISTENERS] = {c->socket_path, c->admin_socket_path};
    const unsigned modes[VD_LISTENERS] = {c->socket_mode, c->admin_socket_mode};
    for (int i = 0; i < VD_LISTENERS && paths[i]; i++) {
        int fd = vd_listener_open(paths[i], modes[i], err, errlen);
        if (fd < 0) {
            vd_acceptor_stop(e);
            return fd;
        }
        a->listen[a->n++] = (vd_listen_t){.engine = e, .path = paths[i], .fd = fd, .admin = i == 1};
    }
    return 0;
}

/* Out of descriptors (or kernel memory), accept fails while the listener stays readable: the
 * loop would spin on it. Accepting pauses instead, the waiting clients stay in the backlog,
 * and the pause is counted and logged at most every ACCEPT_LOG_NS. */
#define ACCEPT_PAUSE_MS 100
#define ACCEPT_LOG_NS   (10 * (int64_t)1000000000)

static void on_listen_ready(uv_poll_t *p, int status, int events);

static void resume_accepting(uv_timer_t *t) {
    vd_acceptor_t *a = t->data;
    for (int i = 0; i < a->n; i++)
        if (a->listen[i].fd >= 0) uv_poll_start(&a->listen[i].poll, UV_READABLE, on_listen_ready);
}

/* why: what stopped accepting; remedy: what an operator can do about it. */
static void pause_accepting(vd_acceptor_t *a, const char *why, const char *remedy) {
    for (int i = 0; i < a->n; i++)
        uv_poll_stop(&a->listen[i].poll);
    uv_timer_start(&a->pause, resume_accepting, ACCEPT_PAUSE_MS, 0);
    atomic_fetch_add(&a->pauses, 1);
    unsigned long long skipped;
    if (!vd_log_limit_pass(&a->pause_log, ACCEPT_LOG_NS, vd_now_ns(), &skipped)) return;
    vd_log(VD_LOG_WARN,
           "accept: %s: not accepting for %d ms (%llu more pauses since the last line); "
           "clients wait in the backlog. %s",
           why, ACCEPT_PAUSE_MS, skipped, remedy);
}

/* Connections open now: those the workers hold, and those accepted but not yet adopted (a
 * connect-and-close storm outruns the workers). */
static uint64_t connections_open(vd_engine_t *e) {
    uint64_t adopted = 0, open = 0;
    for (int i = 0; i < e->nworkers; i++) {
        adopted += vd_counter_get(&e->workers[i].net.conns_total);
        open += vd_counter_get(&e->workers[i].net.conns_open);
    }
    uint64_t accepted = atomic_load(&e->acceptor.accepted);
    return open + (accepted > adopted ? accepted - adopted : 0);
}

static void on_listen_ready(uv_poll_t *p, int status, int events) {
    vd_listen_t *l = p->data;
    vd_engine_t *e = l->engine;
    vd_acceptor_t *a = &e->acceptor;
    (void)events;
    if (status < 0) return;
    for (int n = 0; n < 256; n++) {
        if (e->cfg.max_connections && connections_open(e) >= (uint64_t)e->cfg.max_connections) {
            pause_accepting(a, "--max-connections reached",
                            "Raise --max-connections if the machine can hold more");
            return;
        }
        int fd = accept4(l->fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd < 0) {
            if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM)
                pause_accepting(a, strerror(errno),
                                "Raise the descriptor limit (LimitNOFILE, ulimit -n) if this "
                                "lasts");
            else if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR &&
                     errno != ECONNABORTED)
                vd_log(VD_LOG_WARN, "accept: %s", strerror(errno));
            return;
        }
        atomic_fetch_add(&a->accepted, 1);
        vd_worker_add_fd(&e->workers[a->next_worker], fd, l->admin);
        a->next_worker = (a->next_worker + 1) % e->nworkers;
    }
}

void vd_acceptor_start(vd_engine_t *e) {
    vd_acceptor_t *a = &e->acceptor;
    uv_timer_init(&e->loop, &a->pause);
    a->pause.data = a;
    for (int i = 0; i < a->n; i++) {
        uv_poll_init(&e->loop, &a->listen[i].poll, a->listen[i].fd);
        a->listen[i].poll.data = &a->listen[i];
        uv_poll_start(&a->listen[i].poll, UV_READABLE, on_listen_ready);
    }
    a->started = 1;
}

void vd_acceptor_stop(vd_engine_t *e) {
    vd_acceptor_t *a = &e->acceptor;
    for (int i = 0; i < a->n; i++) {
        vd_listen_t *l = &a->listen[i];
        if (l->fd < 0) continue;
        if (a->started) uv_close((uv_handle_t *)&l->poll, NULL);
        close(l->fd);
        unlink(l->path);
        l->fd = -1;
    }
    if (a->started && !uv_is_closing((uv_handle_t *)&a->pause))
        uv_close((uv_handle_t *)&a->pause, NULL);
}
