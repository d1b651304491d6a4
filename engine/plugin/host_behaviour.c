/* Host API 1.4: plugins reach the anomaly models of series and the behaviour profiles rules
 * use (engine/state/anomaly.h, engine/state/profile.h), with the same keys: a plugin and a rule
 * that score the same series teach the same model. Both live in the embedded store, so the
 * answer comes before the call returns; the callback form leaves room for a backend that
 * answers later, as the state reads do. In a report's run (decision.h, reporting) they answer
 * nothing and change nothing, as for rules: a model is "learning", a profile has no events. */
#include "host_behaviour.h"

#include "activity.h"
#include "base/error.h"
#include "call.h"
#include "state/anomaly.h"
#include "state/profile.h"
#include "state/state_env.h"

#include <math.h>
#include <stddef.h>
#include <string.h>

#define MAX_KEY 1024

static vd_store_t *store_of(const vd_plugin_call_t *call) {
    return call && call->host && call->host->state ? call->host->state->store : NULL;
}

static int reporting(const vd_plugin_call_t *call) {
    return call->d && call->d->reporting;
}

/* The first size bytes of a plugin's options struct over zeros (a plugin built against an
 * older minor has a shorter one), or -1 when size does not even cover the first field. */
static int read_sized(void *out, size_t out_size, const void *in, uint32_t in_size, size_t needed) {
    memset(out, 0, out_size);
    if (!in) return 0;
    if (in_size < needed) return -1;
    memcpy(out, in, in_size < out_size ? in_size : out_size);
    return 0;
}

int vd__anomaly(vd_plugin_call_t *call, const char *key, size_t len, double value,
                const vd_anomaly_options_t *opts, vd_anomaly_done_t done, void *ud) {
    vd_store_t *s = store_of(call);
    vd_anomaly_options_t o;
    if (!s || !done || !key || !len || len > MAX_KEY ||
        read_sized(&o, sizeof o, opts, opts ? opts->size : 0,
                   offsetof(vd_anomaly_options_t, every_s) + sizeof o.every_s))
        return VD_PLUGIN_ERROR;
    if (o.every_s < 0 || o.every_s > 86400) return VD_PLUGIN_ERROR;
    if (!isfinite(value) || fabs(value) > VD_ANOMALY_VALUE_MAX) return VD_PLUGIN_ERROR;
    vd_anomaly_result_t r = {.value = value, .why = VD_ANOMALY_LEARNING};
    if (!reporting(call) &&
        vd_anomaly_observe(s, key, len, call->now_s, value, o.every_s ? o.every_s : 60, &r) != 0)
        return VD_PLUGIN_ERROR; /* out of memory */
    char what[MAX_KEY + 1], why[MAX_KEY + 256];
    memcpy(what, key, len);
    what[len] = '\0';
    vd_anomaly_explain(&r, what, why, sizeof why);
    vd_anomaly_answer_t a = {.score = r.score,
                             .alarm = r.score >= VD_ANOMALY_ALARM,
                             .above = (r.why & VD_ANOMALY_ABOVE) != 0,
                             .below = (r.why & VD_ANOMALY_BELOW) != 0,
                             .novel = (r.why & VD_ANOMALY_NOVEL) != 0,
                             .learning = (r.why & VD_ANOMALY_LEARNING) != 0,
                             .expected = r.expected,
                             .low = r.low,
                             .high = r.high,
                             .surprise = r.surprise,
                             .seen = (int64_t)r.seen,
                             .why = why};
    vd_plugin_activity_t saved =
        vd_plugin_activity_enter(call->ps ? call->ps->lib : NULL, NULL, "anomaly answer");
    done(ud, &a);
    vd_plugin_activity_leave(saved);
    return VD_PLUGIN_OK;
}

int vd__profile(vd_plugin_call_t *call, const char *entity, size_t len,
                const vd_profile_value_t *values, size_t n, const vd_profile_options_t *opts,
                vd_profile_done_t done, void *ud) {
    vd_store_t *s = store_of(call);
    vd_profile_options_t o;
    if (!s || !done || !entity || !len || len > MAX_KEY || !values || n == 0 ||
        n > VD_PROFILE_MAX_ATTRS ||
        read_sized(&o, sizeof o, opts, opts ? opts->size : 0,
                   offsetof(vd_profile_options_t, read_only) + sizeof o.read_only))
        return VD_PLUGIN_ERROR;
    if (o.half_life_s < 0 || (o.has_place && !(fabs(o.lat) <= 90 && fabs(o.lon) <= 180)))
        return VD_PLUGIN_ERROR;
    vd_profile_attr_t attrs[VD_PROFILE_MAX_ATTRS];
    for (size_t i = 0; i < n; i++) {
        if (!values[i].name || (!values[i].value && values[i].value_len)) return VD_PLUGIN_ERROR;
        for (size_t j = 0; j < i; j++)
            if (strcmp(values[i].name, values[j].name) == 0) return VD_PLUGIN_ERROR;
        attrs[i] = (vd_profile_attr_t){values[i].name, values[i].value ? values[i].value : "",
                                       strlen(values[i].name), values[i].value_len};
    }
    vd_profile_opts_t po = {.half_life_s = o.half_life_s ? o.half_life_s : (int64_t)30 * 86400,
                            .read_only = o.read_only,
                            .has_place = o.has_place,
                            .lat = o.lat,
                            .lon = o.lon};
    vd_profile_answer_t r;
    memset(&r, 0, sizeof r); /* a report's run: no events */
    if (!reporting(call) && vd_profile_observe(s, entity, len, call->now_s, attrs, n, &po, &r))
        return VD_PLUGIN_ERROR;
    vd_profile_habit_t seen[VD_PROFILE_MAX_ATTRS];
    for (size_t i = 0; i < n; i++)
        seen[i] = (vd_profile_habit_t){.known = r.seen[i].known,
                                       .count = r.seen[i].count,
                                       .share = r.seen[i].share,
                                       .last_seen = r.seen[i].last_seen,
                                       .values = r.seen[i].values};
    vd_profile_result_t a = {.events = r.events,
                             .first_seen = r.first_seen,
                             .last_seen = r.last_seen,
                             .seen = seen,
                             .n = n,
                             .has_travel = r.had_place && o.has_place};
    if (a.has_travel) {
        a.travel_km = vd_geo_distance_km(r.last_lat, r.last_lon, o.lat, o.lon);
        a.travel_hours = (double)(call->now_s - r.last_place_at) / 3600.0;
    }
    vd_plugin_activity_t saved =
        vd_plugin_activity_enter(call->ps ? call->ps->lib : NULL, NULL, "profile answer");
    done(ud, &a);
    vd_plugin_activity_leave(saved);
    return VD_PLUGIN_OK;
}
