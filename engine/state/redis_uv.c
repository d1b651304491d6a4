#include "redis_uv.h"

#include <stdlib.h>

typedef struct watch {
    redisAsyncContext *ac; /* NULL once hiredis let go of the connection */
    uv_poll_t poll;
    uv_prepare_t flush; /* writes what was queued, once, before the loop waits for events */
    int events;         /* what poll watches */
    int flushing, closed;
} watch_t;

static void on_poll(uv_poll_t *handle, int status, int events) {
    watch_t *w = handle->data;
    /* An error (POLLERR: libuv stopped watching): hiredis reads, meets it and disconnects; if
     * the read finds a reply instead, its watch is set again from nothing. */
    int ev = status < 0 ? w->events | UV_READABLE : events;
    if (status < 0) w->events = 0;
    if (w->ac && (ev & UV_READABLE)) redisAsyncHandleRead(w->ac);
    if (w->ac && (ev & UV_WRITABLE)) redisAsyncHandleWrite(w->ac);
}

static void update(watch_t *w, int events) {
    if (events == w->events) return; /* no system call for nothing */
    w->events = events;
    if (events)
        uv_poll_start(&w->poll, events, on_poll);
    else
        uv_poll_stop(&w->poll);
}

static void on_flush(uv_prepare_t *handle) {
    watch_t *w = handle->data;
    uv_prepare_stop(&w->flush);
    if (!w->ac) return;
    w->flushing = 1;
    redisAsyncHandleWrite(w->ac); /* may free the connection: w->ac is then NULL */
    w->flushing = 0;
}

static void add_read(void *p) {
    watch_t *w = p;
    update(w, w->events | UV_READABLE);
}

static void del_read(void *p) {
    watch_t *w = p;
    update(w, w->events & ~UV_READABLE);
}

/* Commands queued: written just before the loop next waits for events, all at once (whichever
 * callback queued them: I/O, a timer), without asking the kernel to watch for writability
 * (two epoll_ctl calls an iteration). */
static void add_write(void *p) {
    watch_t *w = p;
    /* A connection still being made, and a write the socket did not take whole, wait for it. */
    if (w->flushing || !w->ac || !(w->ac->c.flags & REDIS_CONNECTED))
        update(w, w->events | UV_WRITABLE);
    else
        uv_prepare_start(&w->flush, on_flush);
}

static void del_write(void *p) {
    watch_t *w = p;
    update(w, w->events & ~UV_WRITABLE);
}

static void on_closed(uv_handle_t *handle) {
    watch_t *w = handle->data;
    if (++w->closed == 2) free(w);
}

static void cleanup(void *p) {
    watch_t *w = p;
    w->ac = NULL; /* hiredis frees it right after */
    uv_close((uv_handle_t *)&w->poll, on_closed);
    uv_close((uv_handle_t *)&w->flush, on_closed);
}

int vd_redis_uv_attach(redisAsyncContext *ac, uv_loop_t *loop) {
    if (ac->ev.data) return -1;
    watch_t *w = calloc(1, sizeof *w);
    if (!w) return -1;
    if (uv_poll_init(loop, &w->poll, ac->c.fd) != 0) {
        free(w);
        return -1;
    }
    uv_prepare_init(loop, &w->flush);
    w->ac = ac;
    w->poll.data = w->flush.data = w;
    ac->ev.addRead = add_read;
    ac->ev.delRead = del_read;
    ac->ev.addWrite = add_write;
    ac->ev.delWrite = del_write;
    ac->ev.cleanup = cleanup;
    ac->ev.data = w;
    return 0;
}
