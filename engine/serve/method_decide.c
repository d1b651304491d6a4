#include "method_decide.h"

#include "base/clock.h"
#include "base/error.h"
#include "base/log.h"
#include "base/utf8.h"
#include "decision/decision_pack.h"
#include "decision_record.h"
#include "dlog/dlog.h"
#include "exec/event_check.h"
#include "exec/request.h"
#include "method_report.h"
#include "proto/decide_params.h"
#include "proto/mp_scan.h"
#include "server.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

static int64_t wall_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Whether this decision goes to the decision log (its pipeline's log section, sampled). */
static int to_log(vd_server_t *s, const vd_pipeline_t *pl) {
    if (!s->log || pl->log.off) return 0;
    if (pl->log.sample >= 1) return 1;
    uint64_t x = s->sample_state; /* xorshift64: a fair coin per decision is all it needs */
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    s->sample_state = x;
    return (double)(x >> 11) * 0x1.0p-53 < pl->log.sample;
}

/* Room asked of the log's ring for a line written in place: most lines take a few KB; a
 * longer one is written aside and copied. */
#define IN_PLACE_MOST (64 << 10)

/* Hands the decision's record to the log: written straight into the worker's ring when it has
 * the room, else aside and copied; a full log drops it (counted there). */
static void log_decision(vd_server_t *s, vd_request_t *r, const vd_decision_meta_t *meta,
                         int64_t now_ms) {
    vd_record_in_t in = {
        .pl = r->in.pl, .event = r->in.event, .d = &r->d, .meta = meta, .wall_ms = now_ms};
    const vd_inbound_t *frame = r->in.input; /* [0, msgid, "decide", [pipeline, event, ...]] */
    size_t plen;
    const char *params = vd_mp_array_last(frame->bytes, frame->len, 3, &plen);
    if (params && !(in.event_bytes = vd_mp_array_last(params, plen, 1, &in.event_len)))
        in.event_bytes = vd_mp_array_at(params, plen, 1, &in.event_len); /* options follow */
    char *at = vd_dlog_reserve(s->log, IN_PLACE_MOST);
    size_t n = at ? vd_decision_record_json_at(at, IN_PLACE_MOST, &s->record_scratch, &in) : 0;
    if (n) {
        vd_dlog_commit(s->log, n);
        vd_server_let_go_if_huge(&s->record_scratch);
        return;
    }
    if (vd_decision_record_json(&s->record, &s->record_scratch, &in) == 0)
        vd_dlog_submit(s->log, s->record.data, s->record.size);
    else
        vd_dlog_submit(s->log, NULL, 0); /* no memory for it: dropped, and counted so */
    vd_server_let_go_if_huge(&s->record);
    vd_server_let_go_if_huge(&s->record_scratch);
}

/* The decision ended: answer (unless the client left), log it, and let the connection go. */
static void decided(vd_request_t *r, int rc) {
    vd_server_t *s = r->in.ud;
    vd_conn_t *c = r->in.peer;
    uint32_t msgid = (uint32_t)r->in.cookie;
    const vd_pipeline_t *pl = r->in.pl;
    if (c->closing) {
        /* nobody to tell */
    } else if (rc == VD_ETIMEOUT) {
        vd_server_error(s, c, msgid, VD_RPC_TIMEOUT,
                        "pipeline '%s' did not finish within its deadline of %lld ms", pl->name,
                        (long long)r->in.deadline_ms);
    } else if (rc) {
        vd_server_error(s, c, msgid, VD_RPC_INTERNAL, "decision failed: %s", vd_strerror(rc));
    } else {
        vd_counter_add(&s->stats.decisions, 1);
        vd_rpc_pack_result_head(&c->pk, msgid);
    }
    if (rc == 0) {
        int64_t now_ms = wall_ms();
        /* The record's time is the second the rules saw (verdict.now(), state), to the
         * millisecond when the decision ended within it: a replay without the event's own
         * time runs at that second, as the decision did. */
        int64_t at_ms = now_ms / 1000 == r->rs.now_s ? now_ms : r->rs.now_s * 1000 + 999;
        char id[VD_ULID_LEN + 1];
        vd_ulid_next(&s->ids, now_ms, id);
        vd_decision_meta_t meta = {pl->name, vd_policy_version(r->policy), r->elapsed_ns / 1000,
                                   id};
        if (!c->closing) vd_decision_pack(&c->out, &r->d, &meta);
        if (r->in.observe) log_decision(s, r, &meta, at_ms);
        vd_report_remember(s, id, pl->name, &r->d);
    }
    vd_conn_end_op(c);
}

/* Refused because the worker already holds as many waiting decisions as it may: answered,
 * counted (errors_by_code) and logged at most every OVERLOAD_LOG_NS per worker. */
#define OVERLOAD_LOG_NS (10 * (int64_t)1000000000)

static void overloaded(vd_server_t *s, vd_conn_t *c, uint32_t msgid) {
    const vd_executor_t *x = s->x;
    char why[160];
    if (x->nwaiting >= x->env.max_waiting)
        snprintf(why, sizeof why,
                 "%d decisions are already waiting for plugins or state on this "
                 "worker (--max-waiting)",
                 x->nwaiting);
    else
        snprintf(why, sizeof why,
                 "the decisions waiting for plugins or state on this worker "
                 "already hold %zu KiB of requests (--max-waiting-mb %zu)",
                 x->held_bytes >> 10, x->env.max_waiting_bytes >> 20);
    vd_server_error(s, c, msgid, VD_RPC_OVERLOADED, "%s", why);
    unsigned long long skipped;
    if (vd_log_limit_pass(&s->overload_log, OVERLOAD_LOG_NS, vd_now_ns(), &skipped))
        vd_log(VD_LOG_WARN, "decide refused (overloaded; %llu more since the last line): %s",
               skipped, why);
}

static void give_back(void *ud, void *input) {
    vd_server_recycle(ud, input);
}

void vd_method_decide(vd_server_t *s, vd_conn_t *c, vd_inbound_t **in) {
    int64_t t0 = vd_now_ns();
    const vd_rpc_msg_t *m = &(*in)->msg;
    vd_decide_params_t p;
    const char *bad = vd_decide_params_read(m->params, &p);
    if (bad) {
        vd_server_error(s, c, m->msgid, VD_RPC_BAD_REQUEST, "%s", bad);
        return;
    }
    const vd_pipeline_t *pl = vd_executor_pipeline(s->x, p.pipeline, p.pipeline_len);
    if (!pl) {
        vd_server_unknown_pipeline(s, c, m->msgid, p.pipeline, p.pipeline_len);
        return;
    }
    char why[512];
    if (vd_event_check(pl, p.event, why, sizeof why) != 0) {
        vd_server_error(s, c, m->msgid, VD_RPC_BAD_REQUEST, "%s", why);
        return;
    }
    vd_decide_req_t req = {.pl = pl,
                           .event = p.event,
                           .explain = p.explain,
                           .deadline_ms = p.has_deadline ? p.deadline_ms : s->deadline_ms,
                           .t0 = t0,
                           .input = *in,
                           .input_bytes = (*in)->footprint,
                           .free_input = give_back,
                           .done = decided,
                           .ud = s,
                           .peer = c,
                           .cookie = m->msgid,
                           .observe = to_log(s, pl)};
    vd_conn_begin_op(c); /* ended by decided, now or once the decision has waited */
    int rc = vd_executor_decide(s->x, &req);
    if (rc == 0) {
        *in = NULL; /* the executor's now */
        return;
    }
    vd_conn_end_op(c);
    if (rc == VD_EBUSY)
        overloaded(s, c, m->msgid);
    else
        vd_server_error(s, c, m->msgid, VD_RPC_INTERNAL, "out of memory");
}
