/* A test plugin on the shared state (host API 1.2): counts events per account, labels an
 * account past a limit, and scores accounts that carry the label.
 *
 *   plugin "state.so" { limit = 3 }
 *
 * Each call chains two reads, counter then label, completing from the last answer: with
 * embedded state both answers come inside score(), with Redis both come later. */
#include <verdict/plugin.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const vd_host_api_t *api;

typedef struct state {
    double limit;
    vd_plugin_field_t account;
    vd_plugin_feature_t hour;
} state_t;

typedef struct job {
    const state_t *st;
    vd_plugin_call_t *call;
    char key[128];
    size_t klen;
} job_t;

static int init(const vd_host_api_t *host, void **global, char *err, size_t errlen) {
    (void)global;
    api = host;
    if (host->abi_minor < 2) {
        snprintf(err, errlen, "needs host API 1.2 for state");
        return VD_PLUGIN_ERROR;
    }
    return VD_PLUGIN_OK;
}

static int create(void *global, vd_plugin_setup_t *s, void **instance, char *err, size_t errlen) {
    (void)global, (void)err, (void)errlen;
    state_t *st = calloc(1, sizeof *st);
    if (!st) return VD_PLUGIN_ERROR;
    st->limit = 3;
    api->config_number(api->config_get(api->setup_config(s), "limit"), &st->limit);
    st->account = api->setup_field(s, "account");
    st->hour = api->setup_feature(s, "state_plugin_hour");
    *instance = st;
    return VD_PLUGIN_OK;
}

static void destroy(void *instance) {
    free(instance);
}

static void note_fallback(job_t *j, const vd_state_answer_t *a) {
    if (a->fallback) api->add_tag(j->call, "state_fallback");
}

static void on_label(void *ud, const vd_state_answer_t *a) {
    job_t *j = ud;
    note_fallback(j, a);
    if (a->value > 0) api->add_score(j->call, 5, "flagged_account", "labeled by the plugin");
    api->complete(j->call, VD_PLUGIN_OK);
    free(j);
}

static void on_count(void *ud, const vd_state_answer_t *a) {
    job_t *j = ud;
    note_fallback(j, a);
    api->set_feature_int(j->call, j->st->hour, a->counts[1]);
    char flag[140];
    int n = snprintf(flag, sizeof flag, "flag:%.*s", (int)j->klen, j->key);
    if ((double)a->counts[1] > j->st->limit) api->state_label(j->call, flag, (size_t)n, 60);
    if (api->state_labeled(j->call, flag, (size_t)n, on_label, j) != VD_PLUGIN_OK) {
        api->set_error(j->call, "cannot read the label");
        api->complete(j->call, VD_PLUGIN_ERROR);
        free(j);
    }
}

static int score(void *instance, vd_plugin_call_t *call) {
    const state_t *st = instance;
    const char *acct;
    size_t len;
    if (api->field_string(call, st->account, &acct, &len) != VD_PLUGIN_OK) return VD_PLUGIN_OK;
    job_t *j = calloc(1, sizeof *j);
    if (!j) return VD_PLUGIN_ERROR;
    j->st = st;
    j->call = call;
    j->klen =
        (size_t)snprintf(j->key, sizeof j->key, "plugin:%.*s", (int)(len > 100 ? 100 : len), acct);
    if (api->state_counter(call, j->key, j->klen, 1, on_count, j) != VD_PLUGIN_OK) {
        free(j);
        api->set_error(call, "no state here");
        return VD_PLUGIN_ERROR;
    }
    return VD_PLUGIN_PENDING; /* even when the answers came already: complete() was called */
}

static const vd_plugin_t plugin = {
    .abi_major = VD_PLUGIN_ABI_MAJOR,
    .abi_minor = VD_PLUGIN_ABI_MINOR,
    .size = sizeof(vd_plugin_t),
    .name = "state",
    .version = "1.0",
    .init = init,
    .create = create,
    .score = score,
    .destroy = destroy,
};

VD_PLUGIN_EXPORT const vd_plugin_t *verdict_plugin_entry(void) {
    return &plugin;
}
