/* A test plugin on the anomaly models and behaviour profiles (host API 1.4): scores the
 * event's `count` in the series named by the stage's `series` key, and reads and updates the
 * profile of the event's `account` with its `country` and `device`, and sets what it learnt as
 * features.
 *
 *   plugin "behaviour.so" { series = "..." }
 *
 * Features: plugin_score, plugin_alarm, plugin_seen (the model's values before this one),
 * plugin_events (the account's events before this one), plugin_country_new, plugin_km (with a
 * lat and lon in the event, the distance from the account's last place), plugin_why, and
 * plugin_refused: 1 when the host refused bad calls without calling back. */
#include <verdict/plugin.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const vd_host_api_t *api;

typedef struct inst {
    char series[128];
    vd_plugin_field_t count, account, country, device, lat, lon;
    vd_plugin_feature_t score, alarm, seen, events, country_new, km, why, refused;
} inst_t;

typedef struct job {
    const inst_t *in;
    vd_plugin_call_t *call;
} job_t;

static int init(const vd_host_api_t *host, void **global, char *err, size_t errlen) {
    (void)global;
    api = host;
    if (host->abi_minor < 4) {
        snprintf(err, errlen, "needs host API 1.4 for anomaly models and profiles");
        return VD_PLUGIN_ERROR;
    }
    return VD_PLUGIN_OK;
}

static int create(void *global, vd_plugin_setup_t *s, void **instance, char *err, size_t errlen) {
    (void)global, (void)err, (void)errlen;
    inst_t *in = calloc(1, sizeof *in);
    if (!in) return VD_PLUGIN_ERROR;
    const char *series = api->config_string(api->config_get(api->setup_config(s), "series"));
    snprintf(in->series, sizeof in->series, "%s", series ? series : "plugin-series");
    in->count = api->setup_field(s, "count");
    in->account = api->setup_field(s, "account");
    in->country = api->setup_field(s, "country");
    in->device = api->setup_field(s, "device");
    in->lat = api->setup_field(s, "lat");
    in->lon = api->setup_field(s, "lon");
    in->score = api->setup_feature(s, "plugin_score");
    in->alarm = api->setup_feature(s, "plugin_alarm");
    in->seen = api->setup_feature(s, "plugin_seen");
    in->events = api->setup_feature(s, "plugin_events");
    in->country_new = api->setup_feature(s, "plugin_country_new");
    in->km = api->setup_feature(s, "plugin_km");
    in->why = api->setup_feature(s, "plugin_why");
    in->refused = api->setup_feature(s, "plugin_refused");
    *instance = in;
    return VD_PLUGIN_OK;
}

static void destroy(void *instance) {
    free(instance);
}

static void on_anomaly(void *ud, const vd_anomaly_answer_t *a) {
    job_t *j = ud;
    api->set_feature_float(j->call, j->in->score, a->score);
    api->set_feature_bool(j->call, j->in->alarm, a->alarm);
    api->set_feature_int(j->call, j->in->seen, a->seen);
    api->set_feature_string(j->call, j->in->why, a->why, strlen(a->why));
}

static void on_profile(void *ud, const vd_profile_result_t *p) {
    job_t *j = ud;
    api->set_feature_int(j->call, j->in->events, p->events);
    if (p->n > 0) api->set_feature_bool(j->call, j->in->country_new, !p->seen[0].known);
    if (p->has_travel) api->set_feature_float(j->call, j->in->km, p->travel_km);
}

static void never(void *ud, const void *answer) {
    (void)answer;
    *(int *)ud = 1;
}

/* Bad calls are refused and never answered. */
static int refuses_bad_calls(vd_plugin_call_t *call) {
    int called = 0;
    vd_anomaly_options_t small = {.size = 4};
    vd_anomaly_options_t far = {.size = sizeof far, .every_s = 100000};
    vd_profile_value_t v[2] = {{"a", "1", 1}, {"a", "2", 1}};
    vd_anomaly_done_t an = (vd_anomaly_done_t)(void (*)(void))never;
    vd_profile_done_t pn = (vd_profile_done_t)(void (*)(void))never;
    int bad = api->anomaly(call, "k", 1, 1.0, &small, an, &called) == VD_PLUGIN_ERROR &&
              api->anomaly(call, "k", 1, 1.0, &far, an, &called) == VD_PLUGIN_ERROR &&
              api->anomaly(call, "k", 1, INFINITY, NULL, an, &called) == VD_PLUGIN_ERROR &&
              api->anomaly(call, "", 0, 1.0, NULL, an, &called) == VD_PLUGIN_ERROR &&
              api->profile(call, "e", 1, v, 2, NULL, pn, &called) == VD_PLUGIN_ERROR &&
              api->profile(call, "e", 1, v, 0, NULL, pn, &called) == VD_PLUGIN_ERROR;
    return bad && !called;
}

static int score(void *instance, vd_plugin_call_t *call) {
    const inst_t *in = instance;
    job_t j = {in, call};
    double count = 0;
    if (api->field_float(call, in->count, &count) == VD_PLUGIN_OK &&
        api->anomaly(call, in->series, strlen(in->series), count, NULL, on_anomaly, &j) !=
            VD_PLUGIN_OK)
        return VD_PLUGIN_ERROR;
    const char *account = NULL, *country = "", *device = "";
    size_t alen = 0, clen = 0, dlen = 0;
    if (api->field_string(call, in->account, &account, &alen) == VD_PLUGIN_OK) {
        api->field_string(call, in->country, &country, &clen);
        api->field_string(call, in->device, &device, &dlen);
        vd_profile_value_t v[2] = {{"country", country, clen}, {"device", device, dlen}};
        vd_profile_options_t o = {.size = sizeof o};
        o.has_place = api->field_float(call, in->lat, &o.lat) == VD_PLUGIN_OK &&
                      api->field_float(call, in->lon, &o.lon) == VD_PLUGIN_OK;
        if (api->profile(call, account, alen, v, 2, &o, on_profile, &j) != VD_PLUGIN_OK)
            return VD_PLUGIN_ERROR;
    }
    api->set_feature_int(call, in->refused, refuses_bad_calls(call));
    /* The job lives on this stack: this host answers inside the calls (a plugin for any host
     * would allocate it and complete from done, as tests/plugins/state_plugin.c). */
    return VD_PLUGIN_OK;
}

static const vd_plugin_t plugin = {
    .abi_major = VD_PLUGIN_ABI_MAJOR,
    .abi_minor = VD_PLUGIN_ABI_MINOR,
    .size = sizeof(vd_plugin_t),
    .name = "behaviour",
    .version = "1.0",
    .init = init,
    .create = create,
    .score = score,
    .destroy = destroy,
};

VD_PLUGIN_EXPORT const vd_plugin_t *verdict_plugin_entry(void) {
    return &plugin;
}
