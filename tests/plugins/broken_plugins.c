/* Deliberately broken plugins, one per load error the host must report. Each is built from
 * this file with one of: WRONG_MAJOR, NEWER_MINOR, NO_ENTRY, BAD_CONFIG, INIT_FAILS,
 * NO_SCORE. */
#include <verdict/plugin.h>

#include <stdio.h>

static int init(const vd_host_api_t *api, void **global, char *err, size_t errlen) {
    (void)api, (void)global;
#ifdef INIT_FAILS
    snprintf(err, errlen, "license file missing");
    return VD_PLUGIN_ERROR;
#else
    (void)err, (void)errlen;
    return VD_PLUGIN_OK;
#endif
}

static int create(void *global, vd_plugin_setup_t *s, void **instance, char *err, size_t errlen) {
    (void)global, (void)s;
#ifdef BAD_CONFIG
    (void)instance;
    snprintf(err, errlen, "unknown key 'modle' (did you mean 'model'?)");
    return VD_PLUGIN_ERROR;
#else
    (void)err, (void)errlen;
    *instance = NULL;
    return VD_PLUGIN_OK;
#endif
}

static void destroy(void *instance) {
    (void)instance;
}

#ifndef NO_SCORE
static int score(void *instance, vd_plugin_call_t *call) {
    (void)instance, (void)call;
    return VD_PLUGIN_OK;
}
#endif

static const vd_plugin_t plugin = {
#ifdef WRONG_MAJOR
    .abi_major = VD_PLUGIN_ABI_MAJOR + 1,
#else
    .abi_major = VD_PLUGIN_ABI_MAJOR,
#endif
#ifdef NEWER_MINOR
    .abi_minor = VD_PLUGIN_ABI_MINOR + 7,
#else
    .abi_minor = VD_PLUGIN_ABI_MINOR,
#endif
    .size = sizeof(vd_plugin_t),
    .name = "broken",
    .version = "0",
    .init = init,
    .create = create,
    .destroy = destroy,
#ifndef NO_SCORE
    .score = score,
#endif
};

#ifdef NO_ENTRY
VD_PLUGIN_EXPORT const vd_plugin_t *some_other_name(void) {
    return &plugin;
}
#else
VD_PLUGIN_EXPORT const vd_plugin_t *verdict_plugin_entry(void) {
    return &plugin;
}
#endif
