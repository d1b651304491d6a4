/* A plugin that says which build it is: its reason "build" has the detail "build N", N set
 * at compile time with -DBUILD_NUMBER=N. Built twice (build_1.so, build_2.so) for the tests
 * that overwrite or rebuild a loaded plugin; the tests also compile it themselves.
 *
 *   plugin "build" { } */
#include <verdict/plugin.h>

#include <stddef.h>

#ifndef BUILD_NUMBER
#define BUILD_NUMBER 0
#endif
#define TEXT(x)       #x
#define BUILD_TEXT(x) "build " TEXT(x)

static const vd_host_api_t *api;

static int init(const vd_host_api_t *host, void **global, char *err, size_t errlen) {
    (void)err, (void)errlen;
    api = host;
    *global = NULL;
    return VD_PLUGIN_OK;
}

static int create(void *global, vd_plugin_setup_t *s, void **instance, char *err, size_t errlen) {
    (void)global, (void)s, (void)err, (void)errlen;
    *instance = NULL;
    return VD_PLUGIN_OK;
}

static void destroy(void *instance) {
    (void)instance;
}

static int score(void *instance, vd_plugin_call_t *call) {
    (void)instance;
    api->add_score(call, 1, "build", BUILD_TEXT(BUILD_NUMBER));
    return VD_PLUGIN_OK;
}

static const vd_plugin_t plugin = {
    .abi_major = VD_PLUGIN_ABI_MAJOR,
    .abi_minor = VD_PLUGIN_ABI_MINOR,
    .size = sizeof(vd_plugin_t),
    .name = "build",
    .version = BUILD_TEXT(BUILD_NUMBER),
    .description = "test plugin: names the build it was compiled as",
    .init = init,
    .create = create,
    .destroy = destroy,
    .score = score,
};

VD_PLUGIN_EXPORT const vd_plugin_t *verdict_plugin_entry(void) {
    return &plugin;
}
