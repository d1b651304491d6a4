/* An asynchronous test plugin: every call is answered from the plugin's own thread after
 * delay_ms, or (never = true) not at all, so that the host's deadline must act.
 *
 *   plugin "async.so" { delay_ms = 20, never = false, score = 1, fail = false } */
#include <verdict/plugin.h>

#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static const vd_host_api_t *api;

typedef struct job {
    vd_plugin_call_t *call;
    struct timespec due;
    struct job *next;
} job_t;

typedef struct async {
    int delay_ms, never, fail;
    double score;
    vd_plugin_field_t field;
    pthread_t thread;
    pthread_mutex_t lock;
    pthread_cond_t cond;
    job_t *jobs;
    int stop;
} async_t;

static int init(const vd_host_api_t *host, void **global, char *err, size_t errlen) {
    (void)global, (void)err, (void)errlen;
    api = host;
    return VD_PLUGIN_OK;
}

static int due(const struct timespec *t) {
    struct timespec now;
    clock_gettime(CLOCK_REALTIME, &now);
    return now.tv_sec > t->tv_sec || (now.tv_sec == t->tv_sec && now.tv_nsec >= t->tv_nsec);
}

/* The plugin's own thread: completes jobs when they are due. */
static void *run(void *arg) {
    async_t *a = arg;
    pthread_mutex_lock(&a->lock);
    while (!a->stop) {
        job_t **p = &a->jobs;
        while (*p) {
            job_t *j = *p;
            if (!a->never && due(&j->due)) {
                *p = j->next;
                pthread_mutex_unlock(&a->lock);
                const char *ip;
                size_t n;
                if (a->fail) {
                    api->set_error(j->call, "backend said no");
                    api->complete(j->call, VD_PLUGIN_ERROR);
                } else {
                    if (api->field_string(j->call, a->field, &ip, &n) == VD_PLUGIN_OK)
                        api->add_score(j->call, a->score, "async_hit", "late");
                    api->add_tag(j->call, "async");
                    api->complete(j->call, VD_PLUGIN_OK);
                }
                free(j);
                pthread_mutex_lock(&a->lock);
                p = &a->jobs;
                continue;
            }
            p = &j->next;
        }
        struct timespec wake;
        clock_gettime(CLOCK_REALTIME, &wake);
        wake.tv_nsec += 1000000;
        if (wake.tv_nsec >= 1000000000) wake.tv_sec++, wake.tv_nsec -= 1000000000;
        pthread_cond_timedwait(&a->cond, &a->lock, &wake);
    }
    pthread_mutex_unlock(&a->lock);
    return NULL;
}

static int create(void *global, vd_plugin_setup_t *s, void **instance, char *err, size_t errlen) {
    (void)global, (void)err, (void)errlen;
    const vd_plugin_config_t *cfg = api->setup_config(s);
    async_t *a = calloc(1, sizeof *a);
    if (!a) return VD_PLUGIN_ERROR;
    double d = 20;
    api->config_number(api->config_get(cfg, "delay_ms"), &d);
    a->delay_ms = (int)d;
    a->score = 1;
    api->config_number(api->config_get(cfg, "score"), &a->score);
    api->config_bool(api->config_get(cfg, "never"), &a->never);
    api->config_bool(api->config_get(cfg, "fail"), &a->fail);
    a->field = api->setup_field(s, "ip");
    pthread_mutex_init(&a->lock, NULL);
    pthread_cond_init(&a->cond, NULL);
    pthread_create(&a->thread, NULL, run, a);
    *instance = a;
    return VD_PLUGIN_OK;
}

/* Stops the thread; calls never completed are abandoned (the host frees them). */
static void destroy(void *instance) {
    async_t *a = instance;
    pthread_mutex_lock(&a->lock);
    a->stop = 1;
    pthread_cond_signal(&a->cond);
    pthread_mutex_unlock(&a->lock);
    pthread_join(a->thread, NULL);
    for (job_t *j = a->jobs, *next; j; j = next) {
        next = j->next;
        free(j);
    }
    pthread_mutex_destroy(&a->lock);
    pthread_cond_destroy(&a->cond);
    free(a);
}

static int score(void *instance, vd_plugin_call_t *call) {
    async_t *a = instance;
    job_t *j = calloc(1, sizeof *j);
    if (!j) return VD_PLUGIN_ERROR;
    j->call = call;
    clock_gettime(CLOCK_REALTIME, &j->due);
    j->due.tv_nsec += (long)a->delay_ms * 1000000;
    while (j->due.tv_nsec >= 1000000000)
        j->due.tv_sec++, j->due.tv_nsec -= 1000000000;
    pthread_mutex_lock(&a->lock);
    j->next = a->jobs;
    a->jobs = j;
    pthread_cond_signal(&a->cond);
    pthread_mutex_unlock(&a->lock);
    return VD_PLUGIN_PENDING;
}

static const vd_plugin_t plugin = {
    .abi_major = VD_PLUGIN_ABI_MAJOR,
    .abi_minor = VD_PLUGIN_ABI_MINOR,
    .size = sizeof(vd_plugin_t),
    .name = "async",
    .version = "1.0",
    .description = "test plugin: completes from its own thread",
    .init = init,
    .create = create,
    .destroy = destroy,
    .score = score,
};

VD_PLUGIN_EXPORT const vd_plugin_t *verdict_plugin_entry(void) {
    return &plugin;
}
