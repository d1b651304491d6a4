/* A synchronous test plugin exercising the whole host API: configuration of every type,
 * event fields (nested too), features in and out, scores, tags and errors.
 *
 *   plugin "echo.so" { field = "ip", nested = "user.id", score = 2.5, tag = "echoed",
 *                      read_feature = "ip_version", words = {"a", "b"}, opts = {x = true},
 *                      sleep_ms = 200 } -- score() blocks that long: a slow synchronous plugin */
#include <verdict/plugin.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static const vd_host_api_t *api;

typedef struct echo {
    vd_plugin_field_t field, nested;
    vd_plugin_feature_t out, seen, in;
    double score;
    char tag[64];
    int fail_on_missing;
    double sleep_ms;
} echo_t;

static int init(const vd_host_api_t *host, void **global, char *err, size_t errlen) {
    (void)err, (void)errlen;
    api = host;
    *global = NULL;
    return VD_PLUGIN_OK;
}

static int create(void *global, vd_plugin_setup_t *s, void **instance, char *err, size_t errlen) {
    (void)global;
    const vd_plugin_config_t *cfg = api->setup_config(s);
    static const char *const known[] = {"field",        "nested", "score", "tag",
                                        "read_feature", "words",  "opts",  "fail_on_missing",
                                        "sleep_ms",     NULL};
    if (api->abi_minor >= 1 && api->config_check_keys(cfg, known, err, errlen) != VD_PLUGIN_OK)
        return VD_PLUGIN_ERROR;
    const char *field = api->config_string(api->config_get(cfg, "field"));
    if (!field) return snprintf(err, errlen, "'field' (a string) is required"), VD_PLUGIN_ERROR;
    echo_t *e = calloc(1, sizeof *e);
    if (!e) return VD_PLUGIN_ERROR;
    e->field = api->setup_field(s, field);
    const char *nested = api->config_string(api->config_get(cfg, "nested"));
    if (nested) e->nested = api->setup_field(s, nested);
    e->score = 1;
    api->config_number(api->config_get(cfg, "score"), &e->score);
    const char *tag = api->config_string(api->config_get(cfg, "tag"));
    snprintf(e->tag, sizeof e->tag, "%s", tag ? tag : "echo");
    const vd_plugin_config_t *words = api->config_get(cfg, "words");
    if (words && api->config_type(words) != VD_PLUGIN_ARRAY) {
        free(e);
        return snprintf(err, errlen, "'words' must be a list"), VD_PLUGIN_ERROR;
    }
    int flag = 0;
    api->config_bool(api->config_get(api->config_get(cfg, "opts"), "x"), &flag);
    api->config_bool(api->config_get(cfg, "fail_on_missing"), &e->fail_on_missing);
    api->config_number(api->config_get(cfg, "sleep_ms"), &e->sleep_ms);
    e->out = api->setup_feature(s, "echo_value");
    e->seen = api->setup_feature(s, "echo_words");
    const char *in = api->config_string(api->config_get(cfg, "read_feature"));
    if (in) e->in = api->setup_feature(s, in);
    api->log(VD_PLUGIN_LOG_DEBUG, "echo", flag ? "created (opts.x set)" : "created");
    *instance = e;
    (void)api->setup_stage(s);
    return VD_PLUGIN_OK;
}

static void destroy(void *instance) {
    free(instance);
}

static int score(void *instance, vd_plugin_call_t *call) {
    echo_t *e = instance;
    const char *v;
    size_t n;
    if (e->sleep_ms > 0) {
        struct timespec ts = {(time_t)(e->sleep_ms / 1000),
                              (long)((long long)e->sleep_ms % 1000) * 1000000};
        nanosleep(&ts, NULL);
    }
    if (api->field_string(call, e->field, &v, &n) != VD_PLUGIN_OK) {
        if (e->fail_on_missing) {
            api->set_error(call, "the configured field is missing");
            return VD_PLUGIN_ERROR;
        }
        return VD_PLUGIN_OK;
    }
    char detail[128];
    snprintf(detail, sizeof detail, "%.*s", (int)(n > 100 ? 100 : n), v);
    api->add_score(call, e->score, "echo_hit", detail);
    api->add_tag(call, e->tag);
    api->set_feature_string(call, e->out, v, n);
    int64_t id;
    if (e->nested && api->field_int(call, e->nested, &id) == VD_PLUGIN_OK)
        api->add_score(call, (double)id, "nested_id", NULL);
    double in;
    if (e->in && api->feature_float(call, e->in, &in) == VD_PLUGIN_OK)
        api->set_feature_float(call, e->seen, in * 10);
    return VD_PLUGIN_OK;
}

static const vd_plugin_t plugin = {
    .abi_major = VD_PLUGIN_ABI_MAJOR,
#ifdef ABI_1_0 /* built as against the 1.0 SDK: an older minor must still load */
    .abi_minor = 0,
#else
    .abi_minor = VD_PLUGIN_ABI_MINOR,
#endif
    .size = sizeof(vd_plugin_t),
    .name = "echo",
    .version = "1.0",
    .description = "test plugin: echoes a field as a score",
    .init = init,
    .create = create,
    .destroy = destroy,
    .score = score,
};

VD_PLUGIN_EXPORT const vd_plugin_t *verdict_plugin_entry(void) {
    return &plugin;
}
