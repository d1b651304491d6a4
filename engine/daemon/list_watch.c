#include "list_watch.h"

#include "state/list.h"

static void check_in_pool(uv_work_t *req) {
    (void)req;
    vd_lists_check();
}

static void check_done(uv_work_t *req, int status) {
    (void)status;
    vd_list_watch_t *w = req->data;
    w->busy = 0;
}

static void on_tick(uv_timer_t *t) {
    vd_list_watch_t *w = t->data;
    if (w->busy) return;
    w->busy = 1;
    w->work.data = w;
    if (uv_queue_work(t->loop, &w->work, check_in_pool, check_done) != 0) w->busy = 0;
}

void vd_list_watch_start(vd_list_watch_t *w, uv_loop_t *loop, int interval_ms) {
    w->busy = 0;
    w->running = interval_ms > 0;
    if (!w->running) return;
    uv_timer_init(loop, &w->timer);
    w->timer.data = w;
    uv_timer_start(&w->timer, on_tick, (uint64_t)interval_ms, (uint64_t)interval_ms);
}

void vd_list_watch_stop(vd_list_watch_t *w) {
    if (!w->running) return;
    w->running = 0;
    uv_close((uv_handle_t *)&w->timer, NULL);
}
