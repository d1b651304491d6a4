/* A plugin that crashes on request, for the crash report tests. score() reads the event field
 * "crash": "segv" writes through a null pointer, "overflow" recurses until the stack ends,
 * "abort" calls abort(), "trap" executes a trap instruction (SIGILL). Anything else adds the
 * reason "alive". With crash_in = "create" in its configuration, create() segfaults instead.
 *
 *   plugin "crash" { name = "boom" } */
#include <verdict/plugin.h>

#include <limits.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static const vd_host_api_t *api;
static volatile int depth_limit = INT_MAX; /* never reached: the stack ends first */

typedef struct crash {
    vd_plugin_field_t field;
} crash_t;

/* Address 16: nothing is mapped there, and UBSan (which checks null pointers) lets it through
 * to the fault the test wants. */
static void segfault(void) {
    volatile uintptr_t nowhere = 16;
    *(volatile int *)nowhere = 1;
}

/* Frames that the compiler can neither merge nor turn into a loop. */
static int recurse(volatile char *caller, int depth) {
    volatile char frame[1024];
    frame[0] = (char)depth;
    frame[sizeof frame - 1] = caller ? caller[0] : 0;
    if (depth >= depth_limit) return frame[0];
    return recurse(frame, depth + 1) + frame[sizeof frame - 1];
}

static int init(const vd_host_api_t *host, void **global, char *err, size_t errlen) {
    (void)err, (void)errlen;
    api = host;
    *global = NULL;
    return VD_PLUGIN_OK;
}

static int create(void *global, vd_plugin_setup_t *s, void **instance, char *err, size_t errlen) {
    (void)global, (void)err, (void)errlen;
    const char *in = api->config_string(api->config_get(api->setup_config(s), "crash_in"));
    if (in && strcmp(in, "create") == 0) segfault();
    crash_t *c = calloc(1, sizeof *c);
    if (!c) return VD_PLUGIN_ERROR;
    c->field = api->setup_field(s, "crash");
    *instance = c;
    return VD_PLUGIN_OK;
}

static void destroy(void *instance) {
    free(instance);
}

static int score(void *instance, vd_plugin_call_t *call) {
    crash_t *c = instance;
    const char *how = "";
    size_t n = 0;
    api->field_string(call, c->field, &how, &n);
    if (n == 4 && memcmp(how, "segv", 4) == 0) segfault();
    if (n == 8 && memcmp(how, "overflow", 8) == 0) recurse(NULL, 0);
    if (n == 5 && memcmp(how, "abort", 5) == 0) abort();
    if (n == 4 && memcmp(how, "trap", 4) == 0) __builtin_trap();
    api->add_score(call, 1, "alive", NULL);
    return VD_PLUGIN_OK;
}

static const vd_plugin_t plugin = {
    .abi_major = VD_PLUGIN_ABI_MAJOR,
    .abi_minor = VD_PLUGIN_ABI_MINOR,
    .size = sizeof(vd_plugin_t),
    .name = "crash",
    .version = "1.0",
    .description = "test plugin: crashes when the event asks",
    .init = init,
    .create = create,
    .destroy = destroy,
    .score = score,
};

VD_PLUGIN_EXPORT const vd_plugin_t *verdict_plugin_entry(void) {
    return &plugin;
}
