/* A test plugin on the campaign index (host API 1.3): files the event's body into its text
 * campaign and the (shape, domain) pair into a lockstep group, and sets what it learnt as
 * features.
 *
 *   plugin "campaign.so" { scope = "...", early = true }
 *
 * early: the call completes as score() returns, without waiting for the answers (which a
 * plugin must not do: the host has to survive it).
 *
 * Features: plugin_text_size, plugin_text_sources (absent when the body is too short),
 * plugin_group_recent, and plugin_refused: 1 when the host refused bad calls (options of a
 * size too small, no fields) without calling back. The answers may come inside the calls
 * (embedded campaigns) or later (Redis): the call completes with the last one. */
#include <verdict/plugin.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const vd_host_api_t *api;

typedef struct inst {
    char scope[64];
    int early;
    vd_plugin_field_t body, from, shape, domain;
    vd_plugin_feature_t text_size, text_sources, group_recent, refused;
} inst_t;

typedef struct job {
    const inst_t *in;
    vd_plugin_call_t *call;
    int waiting; /* answers still to come, and one for score() itself */
} job_t;

static int init(const vd_host_api_t *host, void **global, char *err, size_t errlen) {
    (void)global;
    api = host;
    if (host->abi_minor < 3) {
        snprintf(err, errlen, "needs host API 1.3 for campaigns");
        return VD_PLUGIN_ERROR;
    }
    return VD_PLUGIN_OK;
}

static int create(void *global, vd_plugin_setup_t *s, void **instance, char *err, size_t errlen) {
    (void)global, (void)err, (void)errlen;
    inst_t *in = calloc(1, sizeof *in);
    if (!in) return VD_PLUGIN_ERROR;
    const char *scope = api->config_string(api->config_get(api->setup_config(s), "scope"));
    if (scope) snprintf(in->scope, sizeof in->scope, "%s", scope);
    api->config_bool(api->config_get(api->setup_config(s), "early"), &in->early);
    in->body = api->setup_field(s, "body");
    in->from = api->setup_field(s, "from");
    in->shape = api->setup_field(s, "shape");
    in->domain = api->setup_field(s, "domain");
    in->text_size = api->setup_feature(s, "plugin_text_size");
    in->text_sources = api->setup_feature(s, "plugin_text_sources");
    in->group_recent = api->setup_feature(s, "plugin_group_recent");
    in->refused = api->setup_feature(s, "plugin_refused");
    *instance = in;
    return VD_PLUGIN_OK;
}

static void destroy(void *instance) {
    free(instance);
}

/* One answer (or score() itself) is done: the last one completes the call. */
static void one_done(job_t *j) {
    if (--j->waiting > 0) return;
    api->complete(j->call, VD_PLUGIN_OK);
    free(j);
}

static void on_text(void *ud, const vd_campaign_answer_t *a) {
    job_t *j = ud;
    if (a->found) {
        api->set_feature_int(j->call, j->in->text_size, a->size);
        api->set_feature_int(j->call, j->in->text_sources, a->sources);
    }
    one_done(j);
}

static void on_group(void *ud, const vd_campaign_answer_t *a) {
    job_t *j = ud;
    if (a->found) api->set_feature_int(j->call, j->in->group_recent, a->recent);
    one_done(j);
}

static void never(void *ud, const vd_campaign_answer_t *a) {
    (void)a;
    *(int *)ud = 1;
}

/* Bad calls are refused and never answered. */
static int refuses_bad_calls(vd_plugin_call_t *call) {
    int called = 0;
    vd_campaign_options_t small = {.size = 4};
    vd_campaign_field_t f = {"a", "b", 1};
    int a =
        api->campaign_text(call, "one two three four five six seven", 33, &small, never, &called);
    int b = api->campaign_fields(call, &f, 0, NULL, never, &called);
    int c = api->campaign_fields(call, &f, 1, NULL, NULL, &called);
    return a == VD_PLUGIN_ERROR && b == VD_PLUGIN_ERROR && c == VD_PLUGIN_ERROR && !called;
}

static void ignored(void *ud, const vd_campaign_answer_t *a) {
    (void)ud, (void)a;
}

/* early: asks and completes at once; whatever answers come later are not waited for. */
static int score_early(const inst_t *in, vd_plugin_call_t *call) {
    const char *body = NULL;
    size_t blen = 0;
    vd_campaign_options_t o = {
        .size = sizeof o, .scope = in->scope[0] ? in->scope : NULL, .scope_len = strlen(in->scope)};
    vd_campaign_field_t f[1] = {{"shape", "early", 5}};
    if (api->field_string(call, in->body, &body, &blen) == VD_PLUGIN_OK)
        api->campaign_text(call, body, blen, &o, ignored, NULL);
    api->campaign_fields(call, f, 1, &o, ignored, NULL);
    return VD_PLUGIN_OK;
}

static int score(void *instance, vd_plugin_call_t *call) {
    const inst_t *in = instance;
    if (in->early) return score_early(in, call);
    job_t *j = calloc(1, sizeof *j);
    if (!j) return VD_PLUGIN_ERROR;
    *j = (job_t){in, call, 1};
    const char *body = NULL, *from = NULL, *shape = "", *domain = "";
    size_t blen = 0, flen = 0, slen = 0, dlen = 0;
    vd_campaign_options_t o = {
        .size = sizeof o, .scope = in->scope[0] ? in->scope : NULL, .scope_len = strlen(in->scope)};
    if (api->field_string(call, in->from, &from, &flen) == VD_PLUGIN_OK) {
        o.source = from;
        o.source_len = flen;
    }
    api->set_feature_int(call, in->refused, refuses_bad_calls(call));
    j->waiting++;
    if (api->field_string(call, in->body, &body, &blen) != VD_PLUGIN_OK ||
        api->campaign_text(call, body, blen, &o, on_text, j) != VD_PLUGIN_OK)
        j->waiting--;
    api->field_string(call, in->shape, &shape, &slen);
    api->field_string(call, in->domain, &domain, &dlen);
    vd_campaign_field_t f[2] = {{"shape", shape, slen}, {"domain", domain, dlen}};
    j->waiting++;
    if (api->campaign_fields(call, f, 2, &o, on_group, j) != VD_PLUGIN_OK) j->waiting--;
    one_done(j);
    return VD_PLUGIN_PENDING; /* even when the answers came already: complete() was called */
}

static const vd_plugin_t plugin = {
    .abi_major = VD_PLUGIN_ABI_MAJOR,
    .abi_minor = VD_PLUGIN_ABI_MINOR,
    .size = sizeof(vd_plugin_t),
    .name = "campaign",
    .version = "1.0",
    .init = init,
    .create = create,
    .score = score,
    .destroy = destroy,
};

VD_PLUGIN_EXPORT const vd_plugin_t *verdict_plugin_entry(void) {
    return &plugin;
}
