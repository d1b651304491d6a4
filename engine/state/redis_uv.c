#include "redis_uv.h"

#include <stdlib.h>

typedef struct watch {
    redisAsyncContext *ac; /* NULL once hiredis let go of the connection */
    uv_poll_t poll;
    int events;
} watch_t;

static void on_poll(uv_poll_t *handle, int status, int events) {
    watch_t *w = handle->data;
    /* An error (POLLERR: libuv stopped watching): hiredis reads, meets it and disconnects. */
    int ev = status < 0 ? w->events | UV_READABLE : events;
    if (w->ac && (ev & UV_READABLE)) redisAsyncHandleRead(w->ac);
    if (w->ac && (ev & UV_WRITABLE)) redisAsyncHandleWrite(w->ac);
}

static void update(watch_t *w, int events) {
    w->events = events;
    if (events)
        uv_poll_start(&w->poll, events, on_poll);
    else
        uv_poll_stop(&w->poll);
}

static void add_read(void *p) {
    watch_t *w = p;
    update(w, w->events | UV_READABLE);
}

static void del_read(void *p) {
    watch_t *w = p;
    update(w, w->events & ~UV_READABLE);
}

static void add_write(void *p) {
    watch_t *w = p;
    update(w, w->events | UV_WRITABLE);
}

static void del_write(void *p) {
    watch_t *w = p;
    update(w, w->events & ~UV_WRITABLE);
}

static void on_closed(uv_handle_t *handle) {
    free(handle->data);
}

static void cleanup(void *p) {
    watch_t *w = p;
    w->ac = NULL; /* hiredis frees it right after */
    uv_close((uv_handle_t *)&w->poll, on_closed);
}

int vd_redis_uv_attach(redisAsyncContext *ac, uv_loop_t *loop) {
    if (ac->ev.data) return -1;
    watch_t *w = calloc(1, sizeof *w);
    if (!w) return -1;
    if (uv_poll_init(loop, &w->poll, ac->c.fd) != 0) {
        free(w);
        return -1;
    }
    w->ac = ac;
    w->poll.data = w;
    ac->ev.addRead = add_read;
    ac->ev.delRead = del_read;
    ac->ev.addWrite = add_write;
    ac->ev.delWrite = del_write;
    ac->ev.cleanup = cleanup;
    ac->ev.data = w;
    return 0;
}
