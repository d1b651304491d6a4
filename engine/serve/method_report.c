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
#include "state/store.h"

#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

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

void vd_report_remember(vd_server_t *s, const char *id, const char *pipeline,
                        const vd_decision_t *d) {
    vd_store_t *store = s->x->env.state.store;
    if (!d->ncampaigns || !store) return;
    if (vd_report_refs_keep(store, id, strlen(id), pipeline, d->campaigns, d->ncampaigns) != 0)
        vd_counter_add(&s->stats.report_refs_lost, 1);
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
                  vd_report_outcome_t outcome, const vd_report_campaign_t *camps, int n) {
    msgpack_packer *pk = &c->pk;
    vd_rpc_pack_result_head(pk, msgid);
    msgpack_pack_map(pk, 3);
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
                   const vd_report_campaign_t *camps, int n) {
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
    if (!c->closing) reply(c, msgid, p, outcome, camps, n);
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
    } else {
        vd_report_campaign_t camps[VD_DECISION_CAMPAIGNS];
        int n = r->d.ncampaigns;
        int found = apply(s, &er->p, r->d.campaigns, n, er->now, camps);
        finish(s, c, msgid, r->in.pl, &er->p, found ? VD_REPORT_APPLIED : VD_REPORT_NO_CAMPAIGN,
               camps, n);
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
            finish(s, c, m->msgid, pl, &p, VD_REPORT_LIMITED, NULL, 0);
        else
            report_event(s, c, in, pl, &p, now);
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
        finish(s, c, m->msgid, pl, &p, VD_REPORT_LIMITED, NULL, 0);
        return;
    }
    if (n < 0) {
        finish(s, c, m->msgid, pl, &p, VD_REPORT_UNKNOWN_DECISION, NULL, 0);
        return;
    }
    int found = apply(s, &p, refs, n, now, camps);
    finish(s, c, m->msgid, pl, &p, found ? VD_REPORT_APPLIED : VD_REPORT_NO_CAMPAIGN, camps, n);
}
