#include "request.h"

#include "../net/conn.h"
#include "../plugin/stage.h"
#include "../state/state_op.h"
#include "decide.h"
#include "error.h"
#include "log.h"
#include "methods.h"
#include "worker.h"

#include <stdlib.h>
#include <string.h>

void vd__request_release(vd_request_t *r) {
    if (--r->refs > 0) return;
    msgpack_zone_destroy(&r->zone);
    vd_arena_close(&r->arena);
    free(r->frame);
    free(r);
}

/* Answers (unless the client left), then drops everything but the memory plugin calls that
 * timed out may still read. */
static void finish(vd_request_t *r, int rc) {
    vd_conn_t *c = r->conn;
    if (!c->closing)
        vd_decide_reply(c, r->msgid, r->pl, r->policy, &r->d, rc, r->t0, r->deadline_ms);
    r->w->nrequests--;
    vd_policy_unref(r->policy);
    r->policy = NULL;
    r->conn = NULL;
    vd_conn_end_op(c);
    vd__request_release(r);
}

/* ---- the worker's deadline list: pending calls, earliest deadline first ---- */

static void on_call_timer(uv_timer_t *t) {
    vd_request_process_deadlines(t->data);
}

static void arm_timer(vd_worker_t *w) {
    if (!w->dl_head) {
        uv_timer_stop(&w->call_timer);
        return;
    }
    int64_t left = w->dl_head->deadline_ns - vd_now_ns();
    uint64_t ms = left <= 0 ? 0 : (uint64_t)((left + 999999) / 1000000);
    uv_timer_start(&w->call_timer, on_call_timer, ms, 0);
}

static void insert_deadline(vd_worker_t *w, vd_plugin_call_t *c) {
    vd_plugin_call_t *after = w->dl_tail; /* deadlines mostly grow: search from the end */
    while (after && after->deadline_ns > c->deadline_ns)
        after = after->prev;
    c->prev = after;
    c->next = after ? after->next : w->dl_head;
    if (c->next)
        c->next->prev = c;
    else
        w->dl_tail = c;
    if (after)
        after->next = c;
    else
        w->dl_head = c;
}

static void remove_deadline(vd_worker_t *w, vd_plugin_call_t *c) {
    if (c->prev)
        c->prev->next = c->next;
    else
        w->dl_head = c->next;
    if (c->next)
        c->next->prev = c->prev;
    else
        w->dl_tail = c->prev;
    c->next = c->prev = NULL;
}

static void advance(vd_request_t *r);

/* A rule's state operation is done (answered or failed): the rule resumes. */
static void on_state_done(vd_state_op_t *op) {
    advance(op->owner);
}

/* Runs the pipeline on; stops at the next pending call or state operation, or answers. */
static void advance(vd_request_t *r) {
    int rc = vd_pipeline_run(r->policy, r->pl, r->event, &r->d, r->deadline_ns, &r->rs);
    if (rc != VD_EAGAIN) {
        finish(r, rc);
        return;
    }
    if (r->rs.op) { /* done comes from the worker's loop, never before we return */
        r->rs.op->done = on_state_done;
        r->rs.op->owner = r;
        return;
    }
    r->refs++; /* the call's: the plugin may read the event until it completes */
    insert_deadline(r->w, r->rs.pending);
    if (r->w->dl_head == r->rs.pending) arm_timer(r->w);
}

void vd_request_start(vd_conn_t *c, uint32_t msgid, vd_policy_t *policy, const vd_pipeline_t *pl,
                      const char *frame, size_t len, int explain, int64_t deadline_ms, int64_t t0) {
    vd_request_t *r = calloc(1, sizeof *r);
    msgpack_object root;
    size_t off = 0;
    if (!r || !(r->frame = malloc(len)) || !msgpack_zone_init(&r->zone, 2048)) {
        if (r) free(r->frame);
        free(r);
        vd_reply_error(c, msgid, VD_RPC_INTERNAL, "out of memory");
        return;
    }
    memcpy(r->frame, frame, len);
    msgpack_unpack(r->frame, len, &off, &r->zone, &root); /* decoded once already: cannot fail */
    r->event = &root.via.array.ptr[3].via.array.ptr[1];
    vd_arena_init(&r->arena);
    vd_decision_init(&r->d, &r->arena, explain);
    r->w = c->w;
    r->conn = c;
    vd_conn_begin_op(c);
    r->msgid = msgid;
    r->policy = policy;
    vd_policy_ref(policy);
    r->pl = pl;
    r->rs.owner = r;
    r->rs.worker = c->w;
    r->refs = 1;
    r->t0 = t0;
    r->deadline_ms = deadline_ms;
    r->deadline_ns = deadline_ms ? t0 + deadline_ms * 1000000 : 0;
    c->w->nrequests++;
    advance(r);
}

/* The plugin side: any thread. */
void vd__plugin_complete(vd_plugin_call_t *c, int status) {
    if (!c || !c->worker) return;
    vd_worker_t *w = c->worker;
    c->status = status == VD_PLUGIN_OK ? VD_PLUGIN_OK : VD_PLUGIN_ERROR;
    int expected = VD_CALL_PENDING;
    if (!atomic_compare_exchange_strong(&c->state, &expected, VD_CALL_COMPLETED)) return;
    pthread_mutex_lock(&w->done_lock);
    c->done_next = w->done_head;
    w->done_head = c;
    int closed = w->done_closed;
    pthread_mutex_unlock(&w->done_lock);
    if (!closed) uv_async_send(&w->wake);
}

/* A call that timed out earlier and has now completed (or was abandoned at destroy). */
static void drop_orphan(vd_plugin_call_t *c) {
    if (atomic_load(&c->state) != VD_CALL_ABANDONED) {
        vd_plugin_stage_t *ps = c->ps;
        if (c->prev)
            c->prev->next = c->next;
        else
            ps->orphans = c->next;
        if (c->next) c->next->prev = c->prev;
    }
    vd_request_t *r = c->request;
    vd_plugin_call_free(c);
    vd__request_release(r);
}

void vd_request_process_completions(vd_worker_t *w) {
    pthread_mutex_lock(&w->done_lock);
    vd_plugin_call_t *list = w->done_head, *fifo = NULL;
    w->done_head = NULL;
    pthread_mutex_unlock(&w->done_lock);
    while (list) { /* the queue is LIFO: reverse it so requests resume in completion order */
        vd_plugin_call_t *next = list->done_next;
        list->done_next = fifo;
        fifo = list;
        list = next;
    }
    for (vd_plugin_call_t *c = fifo, *next; c; c = next) {
        next = c->done_next;
        if (c->timed_out) {
            drop_orphan(c);
            continue;
        }
        vd_request_t *r = c->request;
        remove_deadline(w, c);
        const vd_stage_t *st = &r->pl->stages[r->rs.next_stage - 1];
        int rc = vd_pipeline_finish_call(st, c, c->status, &r->d);
        vd_plugin_call_free(c);
        r->refs--; /* the call's; the engine's keeps the request */
        if (rc)
            finish(r, rc);
        else
            advance(r);
    }
    arm_timer(w);
}

void vd_request_process_deadlines(vd_worker_t *w) {
    int64_t now = w->draining_hard ? INT64_MAX : vd_now_ns();
    while (w->dl_head && w->dl_head->deadline_ns <= now) {
        vd_plugin_call_t *c = w->dl_head;
        remove_deadline(w, c);
        c->timed_out = 1;
        vd_plugin_stage_t *ps = c->ps;
        c->next = ps->orphans; /* until the plugin completes it, or its instance is destroyed */
        c->prev = NULL;
        if (ps->orphans) ps->orphans->prev = c;
        ps->orphans = c;
        vd_request_t *r = c->request;
        const vd_stage_t *st = &r->pl->stages[r->rs.next_stage - 1];
        int rc = vd_pipeline_finish_call(st, c, VD_PLUGIN_ERROR, &r->d);
        if (rc)
            finish(r, rc);
        else
            advance(r);
    }
    arm_timer(w);
}
