#include "request.h"

#include "base/clock.h"
#include "base/error.h"
#include "base/stats.h"
#include "plugin/call.h"
#include "state/state_op.h"

#include <stdlib.h>
#include <string.h>

#define SPARE_REQUESTS 64 /* finished requests kept, with their arenas, for the next ones */

void vd__request_release(void *req) {
    vd_request_t *r = req;
    if (--r->refs > 0) return;
    vd_executor_t *x = r->x;
    x->held_bytes -= r->in.input_bytes;
    vd_gauge_set(&x->held_gauge, x->held_bytes);
    if (r->in.free_input) r->in.free_input(r->in.ud, r->in.input);
    if (x->nspare < SPARE_REQUESTS && !x->closing) {
        vd_arena_reset(&r->own_arena);
        r->next_spare = x->spare;
        x->spare = r;
        x->nspare++;
        return;
    }
    vd_arena_close(&r->own_arena);
    free(r);
}

vd_request_t *vd__request_new(vd_executor_t *x) {
    vd_request_t *r = x->spare;
    if (r) {
        x->spare = r->next_spare;
        x->nspare--;
        vd_arena_t arena = r->own_arena;
        memset(r, 0, sizeof *r);
        r->own_arena = arena;
    } else if ((r = calloc(1, sizeof *r)) != NULL) {
        vd_arena_init(&r->own_arena);
    }
    if (r) {
        r->x = x;
        r->heap = 1;
    }
    return r;
}

void vd__requests_free_spares(vd_executor_t *x) {
    while (x->spare) {
        vd_request_t *r = x->spare;
        x->spare = r->next_spare;
        vd_arena_close(&r->own_arena);
        free(r);
    }
    x->nspare = 0;
}

void vd__request_hold(vd_request_t *r) {
    r->refs++;
}

/* Counts the decision in its pipeline's figures, hands it to done, then drops everything but
 * the memory plugin calls that timed out may still read. */
static void finish(vd_request_t *r, int rc) {
    const vd_pipeline_t *pl = r->in.pl;
    r->elapsed_ns = vd_now_ns() - r->in.t0;
    if (pl->stats && !r->d.reporting) { /* a report's run is not a decision */
        vd_counter_add(&pl->stats->count, 1);
        vd_hist_add(&pl->stats->latency, r->elapsed_ns);
        if (rc) {
            vd_counter_add(&pl->stats->errors, 1);
        } else {
            vd_stats_count_action(pl->stats, r->d.action);
            if (r->d.has_shadow) vd_stats_count_shadow(pl->stats, r->d.action, r->d.shadow_action);
        }
    }
    r->in.done(r, rc);
    if (!r->heap) return; /* the caller's stack: it frees the input */
    r->x->nwaiting--;
    vd_gauge_set(&r->x->waiting_gauge, (uint64_t)r->x->nwaiting);
    vd_policy_unref(r->policy);
    r->policy = NULL;
    vd__request_release(r);
}

/* ---- the executor's deadline list: pending calls, earliest deadline first ---- */

static void arm(vd_executor_t *x) {
    if (x->env.hooks.arm)
        x->env.hooks.arm(x->env.hooks.ud, x->dl_head ? x->dl_head->deadline_ns : 0);
}

static void insert_deadline(vd_executor_t *x, vd_plugin_call_t *c) {
    vd_plugin_call_t *after = x->dl_tail; /* deadlines mostly grow: search from the end */
    while (after && after->deadline_ns > c->deadline_ns)
        after = after->prev;
    c->prev = after;
    c->next = after ? after->next : x->dl_head;
    if (c->next)
        c->next->prev = c;
    else
        x->dl_tail = c;
    if (after)
        after->next = c;
    else
        x->dl_head = c;
}

static void remove_deadline(vd_executor_t *x, vd_plugin_call_t *c) {
    if (c->prev)
        c->prev->next = c->next;
    else
        x->dl_head = c->next;
    if (c->next)
        c->next->prev = c->prev;
    else
        x->dl_tail = c->prev;
    c->next = c->prev = NULL;
}

static void advance(vd_request_t *r);

/* A rule's state operation is done (answered or failed): the rule resumes. */
static void on_state_done(vd_state_op_t *op) {
    advance(op->owner);
}

/* Runs the pipeline on; stops at the next pending call or state operation, or ends. */
static void advance(vd_request_t *r) {
    int rc = vd_pipeline_run(r->policy, r->in.pl, r->in.event, &r->d, r->deadline_ns, &r->rs);
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
    insert_deadline(r->x, r->rs.pending);
    if (r->x->dl_head == r->rs.pending) arm(r->x);
}

void vd__request_start(vd_request_t *r) {
    vd_decision_init(&r->d, r->heap ? &r->own_arena : &r->x->arena, r->in.explain);
    r->d.observe = r->in.observe || r->in.explain; /* explain shows the state reads too */
    r->d.recorded = r->in.recorded;
    r->d.reporting = r->in.reporting;
    r->refs = 1;
    r->deadline_ns = r->in.deadline_ms ? r->in.t0 + r->in.deadline_ms * 1000000 : 0;
    r->rs.now_s = r->in.now_s ? r->in.now_s : vd_clock_now_s(r->x->env.clock);
    if (r->heap) {
        r->rs.host = &r->x->call_host;
        r->rs.owner = r;
        vd_policy_ref(r->policy);
        r->x->nwaiting++;
        r->x->held_bytes += r->in.input_bytes;
        vd_gauge_set(&r->x->waiting_gauge, (uint64_t)r->x->nwaiting);
        vd_gauge_set(&r->x->held_gauge, r->x->held_bytes);
    }
    advance(r);
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
    vd_request_t *r = c->owner;
    vd_plugin_call_free(c);
    vd__request_release(r);
}

void vd__requests_process(vd_executor_t *x) {
    pthread_mutex_lock(&x->done_lock);
    vd_plugin_call_t *list = x->done_head, *fifo = NULL;
    x->done_head = NULL;
    pthread_mutex_unlock(&x->done_lock);
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
        vd_request_t *r = c->owner;
        remove_deadline(x, c);
        const vd_stage_t *st = &r->in.pl->stages[r->rs.next_stage - 1];
        int rc = vd_pipeline_finish_call(st, c, c->status, &r->d);
        vd_plugin_call_free(c);
        r->refs--; /* the call's; the executor's keeps the request */
        if (rc)
            finish(r, rc);
        else
            advance(r);
    }
    arm(x);
}

void vd__requests_expire(vd_executor_t *x, int64_t now) {
    while (x->dl_head && x->dl_head->deadline_ns <= now) {
        vd_plugin_call_t *c = x->dl_head;
        remove_deadline(x, c);
        c->timed_out = 1;
        vd_plugin_stage_t *ps = c->ps;
        c->next = ps->orphans; /* until the plugin completes it, or its instance is destroyed */
        c->prev = NULL;
        if (ps->orphans) ps->orphans->prev = c;
        ps->orphans = c;
        vd_request_t *r = c->owner;
        const vd_stage_t *st = &r->in.pl->stages[r->rs.next_stage - 1];
        int rc = vd_pipeline_finish_call(st, c, VD_PLUGIN_ERROR, &r->d);
        if (rc)
            finish(r, rc);
        else
            advance(r);
    }
    arm(x);
}
