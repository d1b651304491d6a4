/* hello: the smallest useful Verdict plugin. It scores events whose field is longer than a
 * limit and publishes the length as a feature for later stages.
 *
 *   plugin "hello" { field = "username", max_length = 20, score = 3 }
 */
#include <verdict/plugin.h>

#include <stdio.h>
#include <stdlib.h>

static const vd_host_api_t *api; /* valid from init() to fini() */

typedef struct hello {
    vd_plugin_field_t field;    /* resolved once, used on every request */
    vd_plugin_feature_t length; /* the feature this stage writes */
    double max_length, score;
} hello_t;

static int hello_init(const vd_host_api_t *host, void **global, char *err, size_t errlen) {
    (void)global, (void)err, (void)errlen;
    api = host;
    return VD_PLUGIN_OK;
}

/* Reads the stage's configuration; a bad one is refused with a message naming the key. */
static int hello_create(void *global, vd_plugin_setup_t *setup, void **instance, char *err,
                        size_t errlen) {
    (void)global;
    const vd_plugin_config_t *cfg = api->setup_config(setup);
    const char *field = api->config_string(api->config_get(cfg, "field"));
    if (!field) {
        snprintf(err, errlen, "'field' is required: the event field to measure");
        return VD_PLUGIN_ERROR;
    }
    hello_t *h = calloc(1, sizeof *h);
    if (!h) return VD_PLUGIN_ERROR;
    h->max_length = 20;
    h->score = 1;
    api->config_number(api->config_get(cfg, "max_length"), &h->max_length);
    api->config_number(api->config_get(cfg, "score"), &h->score);
    h->field = api->setup_field(setup, field);
    h->length = api->setup_feature(setup, "hello_length");
    *instance = h;
    return VD_PLUGIN_OK;
}

static void hello_destroy(void *instance) {
    free(instance);
}

/* Called for every request on the worker's thread: read, decide, emit. */
static int hello_score(void *instance, vd_plugin_call_t *call) {
    hello_t *h = instance;
    const char *value;
    size_t len;
    if (api->field_string(call, h->field, &value, &len) != VD_PLUGIN_OK) return VD_PLUGIN_OK;
    api->set_feature_int(call, h->length, (int64_t)len);
    if ((double)len > h->max_length) {
        char detail[64];
        snprintf(detail, sizeof detail, "%zu characters", len);
        api->add_score(call, h->score, "too_long", detail);
    }
    return VD_PLUGIN_OK;
}

static const vd_plugin_t hello = {
    .abi_major = VD_PLUGIN_ABI_MAJOR,
    .abi_minor = VD_PLUGIN_ABI_MINOR,
    .size = sizeof(vd_plugin_t),
    .name = "hello",
    .version = "1.0.0",
    .description = "scores events whose field is too long",
    .init = hello_init,
    .create = hello_create,
    .destroy = hello_destroy,
    .score = hello_score,
};

VD_PLUGIN_EXPORT const vd_plugin_t *verdict_plugin_entry(void) {
    return &hello;
}
