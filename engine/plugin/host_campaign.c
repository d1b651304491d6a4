/* Host API 1.3: plugins file items into the campaigns rules see (engine/state/campaign.h),
 * with the same keys: a plugin and a rule that file the same text in the same scope meet in
 * the same campaign. Embedded, the answer comes before the call returns; with campaigns in
 * Redis it comes later on the worker's loop, as the state reads' do, with the same fallback. */
#include "host_campaign.h"

#include "activity.h"
#include "base/error.h"
#include "call.h"
#include "registry.h"
#include "state/campaign.h"
#include "state/campaign_key.h"
#include "state/campaign_op.h"
#include "state/redis.h"
#include "state/sketch.h"
#include "state/state_env.h"

#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The index the call's host shares, or NULL. */
static vd_campaigns_t *index_of(const vd_plugin_call_t *call) {
    return call && call->host && call->host->state ? call->host->state->campaigns : NULL;
}

/* The plugin's options as the index takes them: only the bytes its size says it has, so that
 * a plugin built against an older minor is read correctly. 0, or VD_EINVAL. */
static int read_options(const vd_campaign_options_t *in, vd_campaign_opts_t *o) {
    vd_campaign_options_t opts;
    memset(o, 0, sizeof *o);
    if (!in) return 0;
    if (in->size < offsetof(vd_campaign_options_t, ttl_s) + sizeof in->ttl_s) return VD_EINVAL;
    memset(&opts, 0, sizeof opts);
    memcpy(&opts, in, in->size < sizeof opts ? in->size : sizeof opts);
    o->look_only = opts.look_only;
    o->source = opts.source;
    o->source_len = opts.source ? opts.source_len : 0;
    o->scope = opts.scope;
    o->scope_len = opts.scope ? opts.scope_len : 0;
    o->window = opts.window_s;
    o->ttl = opts.ttl_s;
    return 0;
}

/* A report's run (decision.h, reporting) finds campaigns and counts nothing. */
static void only_look_when_reporting(const vd_plugin_call_t *call, vd_campaign_opts_t *o) {
    if (call->d && call->d->reporting) o->look_only = 1;
}

/* Calls done with the view (rc 0) or "no campaign" (VD_ENOTFOUND, VD_EINVAL from a text too
 * short); returns VD_PLUGIN_OK, or VD_PLUGIN_ERROR for any other rc (done not called). */
static int answer(vd_plugin_call_t *call, int rc, const vd_campaign_view_t *v,
                  vd_campaign_done_t done, void *ud, vd_plugin_lib_t *lib) {
    if (rc != 0 && rc != VD_ENOTFOUND) return VD_PLUGIN_ERROR;
    vd_campaign_answer_t a = {0};
    /* Noted for a report on the decision, while the call is the decision's. */
    if (rc == 0 && !call->free_later && call->ncampaigns < VD_DECISION_CAMPAIGNS)
        call->campaigns[call->ncampaigns++] = (vd_campaign_ref_t){v->id, (int)v->kind};
    if (rc == 0) {
        a = (vd_campaign_answer_t){.id = v->id,
                                   .found = 1,
                                   .created = v->created,
                                   .similarity = (double)v->agree / VD_SKETCH_HASHES,
                                   .size = (int64_t)v->size,
                                   .recent = (int64_t)v->recent,
                                   .growth_1h = (int64_t)v->growth_1h,
                                   .sources = (int64_t)v->sources,
                                   .first_seen = v->first_seen,
                                   .last_seen = v->last_seen,
                                   .window_s = v->window,
                                   .bad = v->bad,
                                   .good = v->good,
                                   .reporters = (int64_t)v->reporters};
    }
    vd_plugin_activity_t saved = vd_plugin_activity_enter(lib, NULL, "campaign answer");
    done(ud, &a);
    vd_plugin_activity_leave(saved);
    return VD_PLUGIN_OK;
}

/* A plugin's question in Redis, until the answer. */
typedef struct waiter {
    vd_plugin_call_t *call;
    vd_campaign_done_t done;
    void *ud;
    vd_plugin_lib_t *lib; /* referenced: done's code stays mapped */
    vd_campaigns_t *index;
    int fail_open;
} waiter_t;

/* Redis answered (or failed: the fallback answers). The call's memory lasts until then, even
 * when the plugin completed it without waiting; the answer is then dropped: the decision it was
 * for is gone, and after a reload so may be the plugin's instance that done would reach. The
 * call's stage is never read here (an abandoned call may outlive it): its library is w's. */
static void redis_answered(vd_state_op_t *op) {
    waiter_t *w = op->owner;
    if (op->failed && !w->call->free_later && !w->call->fell_back[0]) /* as a rule's says */
        snprintf(w->call->fell_back, sizeof w->call->fell_back, "state fell back: %s; %s", op->why,
                 w->fail_open ? "failed open (no counts, no labels)"
                              : "used this daemon's local state");
    vd_campaign_op_resolve(op, w->index, w->fail_open);
    const vd_campaign_ask_t *a = vd_campaign_op_ask(op);
    if (!w->call->free_later)
        answer(w->call, a->rc == 0 ? 0 : VD_ENOTFOUND, &a->view, w->done, w->ud, w->lib);
    vd_plugin_call_answer_came(w->call);
    vd_plugin_lib_unref(w->lib);
    free(w);
    free(op);
}

/* Sends the question to Redis: VD_PLUGIN_OK (done will be called), or VD_PLUGIN_ERROR. */
static int ask_redis(vd_plugin_call_t *call, const vd_campaign_ask_t *ask,
                     const vd_campaign_opts_t *o, vd_campaign_done_t done, void *ud) {
    const vd_state_env_t *env = call->host->state;
    int64_t window, ttl;
    vd_campaign_kind_t kind =
        ask->what == VD_CAMPAIGN_ASK_TEXT ? VD_CAMPAIGN_TEXT : VD_CAMPAIGN_FIELDS;
    if (vd_campaign_limits(kind, o, &window, &ttl) != 0) return VD_PLUGIN_ERROR; /* as embedded */
    waiter_t *w = malloc(sizeof *w);
    vd_state_op_t *op = w ? vd_campaign_op_new(ask, o, NULL, 0) : NULL;
    if (!op) {
        free(w);
        return VD_PLUGIN_ERROR;
    }
    *w =
        (waiter_t){call, done, ud, call->ps ? call->ps->lib : NULL, env->campaigns, env->fail_open};
    if (w->lib) vd_plugin_lib_ref(w->lib);
    op->owner = w;
    op->done = redis_answered;
    op->now = call->now_s;
    op->deadline_ns = call->deadline_ns; /* the stage's: waiting longer is pointless */
    call->host_waits++;
    if (vd_redis_submit(env->redis, op) != 0) redis_answered(op); /* the fallback, now */
    return VD_PLUGIN_OK;
}

int vd__campaign_text(vd_plugin_call_t *call, const char *text, size_t len,
                      const vd_campaign_options_t *opts, vd_campaign_done_t done, void *ud) {
    vd_campaigns_t *c = index_of(call);
    vd_campaign_opts_t o;
    if (!c || !done || (!text && len) || read_options(opts, &o)) return VD_PLUGIN_ERROR;
    only_look_when_reporting(call, &o);
    vd_sketch_t sk;
    vd_campaign_view_t v;
    if (vd_sketch_text(text ? text : "", len, &sk) != 0) {
        vd_campaigns_note_short(c);
        return answer(call, VD_ENOTFOUND, NULL, done, ud, call->ps ? call->ps->lib : NULL);
    }
    if (call->host->state->redis) {
        vd_campaign_ask_t ask = {.what = VD_CAMPAIGN_ASK_TEXT, .sketch = sk};
        return ask_redis(call, &ask, &o, done, ud);
    }
    return answer(call, vd_campaign_text(c, &sk, &o, call->now_s, &v), &v, done, ud,
                  call->ps ? call->ps->lib : NULL);
}

int vd__campaign_fields(vd_plugin_call_t *call, const vd_campaign_field_t *fields, size_t n,
                        const vd_campaign_options_t *opts, vd_campaign_done_t done, void *ud) {
    vd_campaigns_t *c = index_of(call);
    vd_campaign_opts_t o;
    vd_campaign_kv_t kv[VD_CAMPAIGN_MAX_FIELDS];
    if (!c || !done || !fields || n == 0 || n > VD_CAMPAIGN_MAX_FIELDS || read_options(opts, &o))
        return VD_PLUGIN_ERROR;
    only_look_when_reporting(call, &o);
    for (size_t i = 0; i < n; i++) {
        if (!fields[i].name || (!fields[i].value && fields[i].value_len)) return VD_PLUGIN_ERROR;
        kv[i] = (vd_campaign_kv_t){fields[i].name, fields[i].value ? fields[i].value : "",
                                   strlen(fields[i].name), fields[i].value_len};
    }
    uint64_t key;
    vd_campaign_view_t v;
    if (vd_campaign_fields_key(kv, n, &key) != 0) return VD_PLUGIN_ERROR;
    if (call->host->state->redis) {
        vd_campaign_ask_t ask = {.what = VD_CAMPAIGN_ASK_FIELDS, .key = key};
        return ask_redis(call, &ask, &o, done, ud);
    }
    return answer(call, vd_campaign_fields(c, key, &o, call->now_s, &v), &v, done, ud,
                  call->ps ? call->ps->lib : NULL);
}
