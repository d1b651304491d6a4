/* A report reaches campaigns two ways. By decision id: every decision that joins campaigns
 * leaves their ids in the store under its own id (report_refs.h), and the report finds them
 * there. By event: the pipeline runs on the event as a report's run (decision.h, reporting),
 * where campaign calls only look and note what they find, state reads answer nothing and no
 * state changes; the report then goes to every campaign noted. Either way the reporter's
 * hourly count is checked first, the outcome is counted, answered and, with a decision log,
 * written there as a line of type "report". */
#include "method_report.h"

#include "base/clock.h"
#include "base/error.h"
#include "base/hex.h"
#include "base/log.h"
#include "base/utf8.h"
#include "decision/recorded.h"
#include "decision_record.h"
#include "dlog/dlog.h"
#include "exec/event_check.h"
#include "exec/request.h"
#include "proto/mpbuf.h"
#include "proto/report_params.h"
#include "report_refs.h"
#include "server.h"
#include "state/campaign.h"
#include "state/campaign_op.h"
#include "state/redis.h"
#include "state/store.h"

#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <xxhash.h>

const char *const vd_report_outcome_names[VD_REPORT_OUTCOMES] = {"applied", "no_campaign",
                                                                 "unknown_decision", "limited"};

/* The reporters' hourly counts' key space in the store. */
#define LIMIT_TAG                                                                                  \
    "\x03"                                                                                         \
    "reports-by:"

/* A report on an event, while its run lasts. */
typedef struct event_report {
    vd_recorded_t rec; /* first: the run's recorded answers (none), found again from it */
    vd_report_params_t p;
    int64_t now;
} event_report_t;

static int64_t wall_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

_Static_assert(VD_CAMPAIGN_REFS == VD_DECISION_CAMPAIGNS, "a decision's campaigns fit its refs");

/* The hash of a pipeline's name that refs carry. */
static uint64_t pipeline_hash(const char *name, size_t len) {
    return XXH3_64bits(name, len);
}

void vd_report_remember(vd_server_t *s, const char *id, const char *pipeline,
                        const vd_decision_t *d) {
    vd_store_t *store = s->x->env.state.store;
    if (!d->ncampaigns || !store) return;
    if (vd_report_refs_keep(store, id, strlen(id), pipeline, d->campaigns, d->ncampaigns) != 0)
        vd_counter_add(&s->stats.report_refs_lost, 1);
    if (!s->x->env.state.redis) return;
    /* In Redis too, for a report that reaches another daemon of the fleet (this one keeps
     * its own copy for when Redis is away). */
    vd_campaign_refs_t refs = {.pipeline = pipeline_hash(pipeline, strlen(pipeline)),
                               .n = d->ncampaigns};
    for (int i = 0; i < d->ncampaigns; i++) {
        refs.ids[i] = d->campaigns[i].id;
        refs.kinds[i] = (uint8_t)d->campaigns[i].kind;
    }
    char why[120];
    vd_redis_keep_refs(s->x->env.state.redis, id, strlen(id), &refs, why, sizeof why);
}

/* Whether the reporter (anonymous reports share one count) is past its reports this hour;
 * counts this one. */
static int over_limit(vd_server_t *s, const vd_report_params_t *p, int64_t now) {
    vd_store_t *store = s->x->env.state.store;
    if (!store) return 0;
    char key[sizeof LIMIT_TAG + VD_REPORT_MAX_REPORTER];
    memcpy(key, LIMIT_TAG, sizeof LIMIT_TAG - 1);
    if (p->reporter) memcpy(key + sizeof LIMIT_TAG - 1, p->reporter, p->reporter_len);
    uint64_t counts[VD_WINDOWS];
    if (vd_store_count(store, key, sizeof LIMIT_TAG - 1 + p->reporter_len, 1, now, counts) != 0)
        return 0; /* out of memory: the report is not refused for it */
    return counts[1] > (uint64_t)s->report_limit;
}

/* Adds the report to each campaign; out gets them as they are after it. Returns how many
 * were still there. */
static int apply(vd_server_t *s, const vd_report_params_t *p, const vd_campaign_ref_t *refs, int n,
                 int64_t now, vd_report_campaign_t *out) {
    vd_campaigns_t *index = s->x->env.state.campaigns;
    int found = 0;
    for (int i = 0; i < n; i++) {
        vd_campaign_view_t v;
        int rc = index
                     ? vd_campaign_report(index, (vd_campaign_kind_t)refs[i].kind, refs[i].id,
                                          p->bad, p->weight, p->reporter, p->reporter_len, now, &v)
                     : VD_ENOTFOUND;
        out[i] = (vd_report_campaign_t){.id = refs[i].id, .kind = refs[i].kind, .found = rc == 0};
        if (rc != 0) continue;
        out[i].bad = v.bad;
        out[i].good = v.good;
        out[i].reporters = v.reporters;
        out[i].size = v.size;
        found++;
    }
    return found;
}

/* The reply: {"outcome", "label", "campaigns": [...]}, written as JSON would be read by any
 * client: through the same entries the record has. */
static void reply(vd_conn_t *c, uint32_t msgid, const vd_report_params_t *p,
                  vd_report_outcome_t outcome, const vd_report_campaign_t *camps, int n,
                  const char *fell_back) {
    msgpack_packer *pk = &c->pk;
    vd_rpc_pack_result_head(pk, msgid);
    msgpack_pack_map(pk, fell_back ? 4 : 3);
    if (fell_back) { /* Redis did not answer a step: what it says may be only this daemon's */
        vd_pack_cstr(pk, "fell_back");
        vd_pack_cstr(pk, fell_back);
    }
    vd_pack_cstr(pk, "outcome");
    vd_pack_cstr(pk, vd_report_outcome_names[outcome]);
    vd_pack_cstr(pk, "label");
    vd_pack_cstr(pk, p->bad ? "bad" : "good");
    vd_pack_cstr(pk, "campaigns");
    msgpack_pack_array(pk, (size_t)n);
    for (int i = 0; i < n; i++) {
        const vd_report_campaign_t *k = &camps[i];
        msgpack_pack_map(pk, k->found ? 7 : 3);
        vd_pack_cstr(pk, "kind");
        vd_pack_cstr(pk, vd_campaign_kind_names[k->kind]);
        char id[17];
        id[16] = '\0';
        vd_hex64(id, k->id);
        vd_pack_cstr(pk, "id");
        vd_pack_cstr(pk, id);
        vd_pack_cstr(pk, "found");
        k->found ? msgpack_pack_true(pk) : msgpack_pack_false(pk);
        if (!k->found) continue;
        vd_pack_u64(pk, "size", k->size);
        vd_pack_cstr(pk, "bad");
        msgpack_pack_double(pk, k->bad);
        vd_pack_cstr(pk, "good");
        msgpack_pack_double(pk, k->good);
        vd_pack_u64(pk, "reporters", k->reporters);
    }
}

/* Counts the outcome, writes its line to the decision log (when there is one) and answers. */
static void finish(vd_server_t *s, vd_conn_t *c, uint32_t msgid, const vd_pipeline_t *pl,
                   const vd_report_params_t *p, vd_report_outcome_t outcome,
                   const vd_report_campaign_t *camps, int n, const char *fell_back) {
    vd_counter_add(&s->stats.reports[p->bad][outcome], 1);
    if (s->log && !pl->log.off) {
        int64_t now_ms = wall_ms();
        char id[VD_ULID_LEN + 1];
        vd_ulid_next(&s->ids, now_ms, id);
        vd_report_record_in_t rin = {.pl = pl,
                                     .id = id,
                                     .decision_id = p->decision_id,
                                     .decision_id_len = p->decision_id_len,
                                     .event = p->event,
                                     .bad = p->bad,
                                     .reporter = p->reporter,
                                     .reporter_len = p->reporter_len,
                                     .weight = p->weight,
                                     .outcome = vd_report_outcome_names[outcome],
                                     .campaigns = camps,
                                     .ncampaigns = n,
                                     .wall_ms = now_ms};
        if (vd_report_record_json(&s->record, &s->record_scratch, &rin) == 0)
            vd_dlog_submit(s->log, s->record.data, s->record.size);
        else
            vd_dlog_submit(s->log, NULL, 0); /* no memory for it: dropped, and counted so */
        vd_server_let_go_if_huge(&s->record);
        vd_server_let_go_if_huge(&s->record_scratch);
    }
    if (!c->closing) reply(c, msgid, p, outcome, camps, n, fell_back);
}

/* ---- with campaigns in Redis, the report waits for its answers ---- */

/* A report waiting for Redis: what finish() needs once every campaign has answered. */
typedef struct redis_report {
    vd_server_t *s;
    vd_conn_t *c;
    uint32_t msgid;
    const vd_pipeline_t *pl;
    vd_report_params_t p;
    vd_policy_t *policy; /* by id: held while it waits (pl is its) */
    vd_inbound_t *in;    /* by id: the request, whose bytes p points into */
    vd_request_t *run;   /* by event: the report's run, held (its input holds p's bytes) */
    event_report_t *er;
    int n, waiting;
    int outcome;  /* when no campaign is asked: unknown decision, limited (else: from found) */
    int answered; /* an error reply was written already */
    char fell_back[120]; /* why Redis did not answer a step (the first), or "" */
    vd_report_campaign_t camps[VD_DECISION_CAMPAIGNS];
} redis_report_t;

static void redis_report_end(redis_report_t *j) {
    if (--j->waiting > 0) return;
    int found = 0;
    for (int i = 0; i < j->n; i++)
        found += j->camps[i].found;
    vd_report_outcome_t outcome = j->outcome ? (vd_report_outcome_t)j->outcome
                                  : found    ? VD_REPORT_APPLIED
                                             : VD_REPORT_NO_CAMPAIGN;
    if (!j->answered)
        finish(j->s, j->c, j->msgid, j->pl, &j->p, outcome, j->camps, j->n,
               j->fell_back[0] ? j->fell_back : NULL);
    vd_conn_end_op(j->c);
    vd_server_recycle(j->s, j->in);
    if (j->policy) vd_policy_unref(j->policy);
    if (j->run) vd__request_release(j->run);
    free(j->er);
    free(j);
}

/* One campaign answered (or its fallback, when Redis did not). */
/* How a rule's state call that fell back is noted in its decision's faults (lua_store.c). */
#define FELL_BACK "state fell back: "

/* Keeps why Redis did not answer one of the report's steps (the first reason). */
static void note_fallback(redis_report_t *j, const char *why) {
    if (!j->fell_back[0]) snprintf(j->fell_back, sizeof j->fell_back, "%s", why);
}

static void redis_report_answered(vd_state_op_t *op) {
    redis_report_t *j = op->owner;
    if (op->failed) note_fallback(j, op->why);
    const vd_state_env_t *env = &j->s->x->env.state;
    vd_campaign_op_resolve(op, env->campaigns, env->fail_open);
    const vd_campaign_ask_t *a = vd_campaign_op_ask(op);
    vd_report_campaign_t *k = &j->camps[op->n];
    k->found = a->rc == 0;
    if (k->found) {
        k->bad = a->view.bad;
        k->good = a->view.good;
        k->reporters = a->view.reporters;
        k->size = a->view.size;
    }
    free(op);
    redis_report_end(j);
}

/* Sends the report to each campaign; the answer is written when the last one is back. The
 * connection's operation (begun by the caller) is ended then. */
static void apply_redis(redis_report_t *j, const vd_campaign_ref_t *refs, int n, int64_t now) {
    j->n = n;
    j->waiting = n + 1; /* one for this loop: nothing ends before every one is sent */
    for (int i = 0; i < n; i++) {
        j->camps[i] = (vd_report_campaign_t){.id = refs[i].id, .kind = refs[i].kind};
        vd_campaign_ask_t ask = {.what = VD_CAMPAIGN_ASK_REPORT,
                                 .kind = (vd_campaign_kind_t)refs[i].kind,
                                 .key = refs[i].id,
                                 .bad = j->p.bad,
                                 .weight = j->p.weight};
        vd_state_op_t *op = vd_campaign_op_new(&ask, NULL, j->p.reporter, j->p.reporter_len);
        if (!op) {
            j->waiting--; /* not found, as far as this report can tell */
            continue;
        }
        op->owner = j;
        op->n = (uint32_t)i;
        op->now = now;
        op->done = redis_report_answered;
        if (vd_redis_submit(j->s->x->env.state.redis, op) != 0) redis_report_answered(op);
    }
    redis_report_end(j);
}

/* The report's run on its event ended: the campaigns it found get the report. */
static void event_ran(vd_request_t *r, int rc) {
    vd_server_t *s = r->in.ud;
    vd_conn_t *c = r->in.peer;
    uint32_t msgid = (uint32_t)r->in.cookie;
    event_report_t *er = (event_report_t *)(void *)r->in.recorded;
    if (rc == VD_ETIMEOUT) {
        if (!c->closing)
            vd_server_error(s, c, msgid, VD_RPC_TIMEOUT,
                            "pipeline '%s' did not finish within its deadline of %lld ms",
                            r->in.pl->name, (long long)r->in.deadline_ms);
    } else if (rc) {
        if (!c->closing)
            vd_server_error(s, c, msgid, VD_RPC_INTERNAL, "report failed: %s", vd_strerror(rc));
    } else if (s->x->env.state.redis) {
        redis_report_t *j = calloc(1, sizeof *j);
        if (j) {
            *j = (redis_report_t){.s = s,
                                  .c = c,
                                  .msgid = msgid,
                                  .pl = r->in.pl,
                                  .p = er->p,
                                  .policy = r->policy,
                                  .run = r,
                                  .er = er};
            vd__request_hold(r);
            vd_policy_ref(j->policy); /* the run lets go of it when this returns */
            for (uint32_t i = 0; i < r->d.faults.len; i++) { /* its lookups that fell back */
                const char *m = VD_VEC_AT(r->d.faults, vd_fault_t, i).message;
                if (!m || strncmp(m, FELL_BACK, sizeof FELL_BACK - 1) != 0 || j->fell_back[0])
                    continue;
                m += sizeof FELL_BACK - 1; /* the reason, without what the rule did instead */
                snprintf(j->fell_back, sizeof j->fell_back, "%.*s", (int)strcspn(m, ";"), m);
            }
            apply_redis(j, r->d.campaigns, r->d.ncampaigns, er->now);
            return; /* er and the connection's operation are the report's now */
        }
        if (!c->closing) vd_server_error(s, c, msgid, VD_RPC_INTERNAL, "out of memory");
    } else {
        vd_report_campaign_t camps[VD_DECISION_CAMPAIGNS];
        int n = r->d.ncampaigns;
        int found = apply(s, &er->p, r->d.campaigns, n, er->now, camps);
        finish(s, c, msgid, r->in.pl, &er->p, found ? VD_REPORT_APPLIED : VD_REPORT_NO_CAMPAIGN,
               camps, n, NULL);
    }
    free(er);
    vd_conn_end_op(c);
}

static void give_back(void *ud, void *input) {
    vd_server_recycle(ud, input);
}

/* Runs the pipeline on the event as a report's run; the answer comes from event_ran. */
static void report_event(vd_server_t *s, vd_conn_t *c, vd_inbound_t **in, const vd_pipeline_t *pl,
                         const vd_report_params_t *p, int64_t now) {
    uint32_t msgid = (*in)->msg.msgid;
    event_report_t *er = calloc(1, sizeof *er);
    if (!er) {
        vd_server_error(s, c, msgid, VD_RPC_INTERNAL, "out of memory");
        return;
    }
    /* Every state read the run makes is one the record cannot answer: answered with nothing,
     * and no counter, label or profile changes. */
    er->rec = (vd_recorded_t){.state = 1, .store_forbidden = 1};
    er->p = *p;
    er->now = now;
    vd_decide_req_t req = {.pl = pl,
                           .event = p->event,
                           .deadline_ms = s->deadline_ms,
                           .t0 = vd_now_ns(),
                           .recorded = &er->rec,
                           .reporting = 1,
                           .input = *in,
                           .input_bytes = (*in)->footprint,
                           .free_input = give_back,
                           .done = event_ran,
                           .keep = s->x->env.state.redis != NULL, /* it may wait for Redis */
                           .ud = s,
                           .peer = c,
                           .cookie = msgid};
    vd_conn_begin_op(c); /* ended by event_ran */
    int rc = vd_executor_decide(s->x, &req);
    if (rc == 0) {
        *in = NULL; /* the executor's now, until the run ends */
        return;
    }
    vd_conn_end_op(c);
    free(er);
    vd_server_error(s, c, msgid, rc == VD_EBUSY ? VD_RPC_OVERLOADED : VD_RPC_INTERNAL, "%s",
                    rc == VD_EBUSY ? "too many decisions are waiting: try again" : "out of memory");
}

/* The decision's campaigns came from Redis (or, when it has none or is away, from this
 * daemon's store): the report goes on as it does without Redis. */
static void refs_answered(vd_state_op_t *op) {
    redis_report_t *j = op->owner;
    if (op->failed) note_fallback(j, op->why);
    vd_server_t *s = j->s;
    const vd_campaign_ask_t *a = vd_campaign_op_ask(op);
    vd_campaign_ref_t refs[VD_DECISION_CAMPAIGNS];
    int n = -1;
    if (!op->failed && a->rc == 0) {
        n = a->refs.pipeline == pipeline_hash(j->p.pipeline, j->p.pipeline_len) ? a->refs.n : -2;
        for (int i = 0; i < a->refs.n; i++)
            refs[i] = (vd_campaign_ref_t){a->refs.ids[i], a->refs.kinds[i]};
    }
    int64_t now = op->now;
    free(op);
    if (n == -1 && s->x->env.state.store)
        n = vd_report_refs_find(s->x->env.state.store, j->p.decision_id, j->p.decision_id_len,
                                j->p.pipeline, j->p.pipeline_len, refs);
    j->waiting = 1; /* unless the report goes on to its campaigns: it ends here */
    if (n == -2) {
        if (!j->c->closing)
            vd_server_error(s, j->c, j->msgid, VD_RPC_BAD_REQUEST,
                            "decision '%.*s' was made by another pipeline than '%s'",
                            (int)vd_utf8_cut(j->p.decision_id, j->p.decision_id_len, 64),
                            j->p.decision_id, j->pl->name);
        j->answered = 1;
    } else if (over_limit(s, &j->p, now)) {
        j->outcome = VD_REPORT_LIMITED;
    } else if (n < 0) {
        j->outcome = VD_REPORT_UNKNOWN_DECISION;
    } else {
        apply_redis(j, refs, n, now);
        return;
    }
    redis_report_end(j);
}

/* A report by decision id with campaigns in Redis: the decision's campaigns are read there
 * first (any daemon of the fleet may have made it), then the report goes to each. */
static void report_by_id_in_redis(vd_server_t *s, vd_conn_t *c, vd_inbound_t **in,
                                  const vd_pipeline_t *pl, const vd_report_params_t *p,
                                  int64_t now) {
    redis_report_t *j = calloc(1, sizeof *j);
    vd_campaign_ask_t ask = {.what = VD_CAMPAIGN_ASK_REFS};
    vd_state_op_t *op =
        j ? vd_campaign_op_new(&ask, NULL, p->decision_id, p->decision_id_len) : NULL;
    if (!op) {
        free(j);
        vd_server_error(s, c, (*in)->msg.msgid, VD_RPC_INTERNAL, "out of memory");
        return;
    }
    *j = (redis_report_t){.s = s,
                          .c = c,
                          .msgid = (*in)->msg.msgid,
                          .pl = pl,
                          .p = *p,
                          .policy = s->x->policy,
                          .in = *in};
    *in = NULL; /* p points into it: kept until the answer */
    vd_policy_ref(j->policy);
    vd_conn_begin_op(c);
    op->owner = j;
    op->now = now;
    op->done = refs_answered;
    if (vd_redis_submit(s->x->env.state.redis, op) != 0) refs_answered(op);
}

void vd_method_report(vd_server_t *s, vd_conn_t *c, vd_inbound_t **in) {
    const vd_rpc_msg_t *m = &(*in)->msg;
    vd_report_params_t p;
    const char *bad = vd_report_params_read(m->params, &p);
    if (bad) {
        vd_server_error(s, c, m->msgid, VD_RPC_BAD_REQUEST, "%s", bad);
        return;
    }
    const vd_pipeline_t *pl = vd_executor_pipeline(s->x, p.pipeline, p.pipeline_len);
    if (!pl) {
        vd_server_unknown_pipeline(s, c, m->msgid, p.pipeline, p.pipeline_len);
        return;
    }
    int64_t now = vd_clock_now_s(s->x->env.clock);
    if (p.event) { /* a report the pipeline refuses is the client's error, not a report */
        char why[512];
        if (vd_event_check(pl, p.event, why, sizeof why) != 0) {
            vd_server_error(s, c, m->msgid, VD_RPC_BAD_REQUEST, "%s", why);
            return;
        }
        if (over_limit(s, &p, now))
            finish(s, c, m->msgid, pl, &p, VD_REPORT_LIMITED, NULL, 0, NULL);
        else
            report_event(s, c, in, pl, &p, now);
        return;
    }
    if (s->x->env.state.redis) {
        report_by_id_in_redis(s, c, in, pl, &p, now);
        return;
    }
    vd_campaign_ref_t refs[VD_DECISION_CAMPAIGNS];
    vd_report_campaign_t camps[VD_DECISION_CAMPAIGNS];
    int n = s->x->env.state.store
                ? vd_report_refs_find(s->x->env.state.store, p.decision_id, p.decision_id_len,
                                      p.pipeline, p.pipeline_len, refs)
                : -1;
    if (n == -2) {
        vd_server_error(s, c, m->msgid, VD_RPC_BAD_REQUEST,
                        "decision '%.*s' was made by another pipeline than '%s'",
                        (int)vd_utf8_cut(p.decision_id, p.decision_id_len, 64), p.decision_id,
                        pl->name);
        return;
    }
    if (over_limit(s, &p, now)) {
        finish(s, c, m->msgid, pl, &p, VD_REPORT_LIMITED, NULL, 0, NULL);
        return;
    }
    if (n < 0) {
        finish(s, c, m->msgid, pl, &p, VD_REPORT_UNKNOWN_DECISION, NULL, 0, NULL);
        return;
    }
    int found = apply(s, &p, refs, n, now, camps);
    finish(s, c, m->msgid, pl, &p, found ? VD_REPORT_APPLIED : VD_REPORT_NO_CAMPAIGN, camps, n,
           NULL);
}
