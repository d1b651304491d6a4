/* gbdt: scores a feature vector with an XGBoost tree ensemble (JSON model).
 *
 *   plugin "gbdt" {
 *     model  = verdict.data_dir .. "/models/mail-gbdt.json",
 *     inputs = { "links", "subject_caps", ... },  -- default: the model's feature_names
 *     prefix = "gbdt_",    -- features gbdt_p (or gbdt_margin for logitraw) and gbdt_model
 *     weight = 10,         -- adds weight * output as a reason (0: features only)
 *     scale  = "output",   -- or "margin": adds weight * margin (a log-odds for logistic)
 *   }
 *
 * Each input is read from the features of earlier stages when one of that name is set, else
 * from the event field of that name (a dotted path): numbers as float32, booleans as 0/1,
 * anything else missing. */
#include "model.h"

#include <verdict/plugin.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const vd_host_api_t *api;

typedef struct gbdt {
    gbdt_model_t model;
    vd_plugin_field_t *fields;
    vd_plugin_feature_t *features;
    vd_plugin_feature_t out, out_model;
    float *x;         /* the input row, reused by every call of this instance */
    int margin_scale; /* the reason's score is weight * margin */
    double weight;
    char version[96]; /* file name and content hash: which model scored */
} gbdt_t;

static int gbdt_init(const vd_host_api_t *host, void **global, char *err, size_t errlen) {
    (void)global, (void)err, (void)errlen;
    api = host;
    return VD_PLUGIN_OK;
}

static void gbdt_destroy(void *instance) {
    gbdt_t *g = instance;
    gbdt_model_free(&g->model);
    free(g->fields);
    free(g->features);
    free(g->x);
    free(g);
}

static int check_keys(const vd_plugin_config_t *cfg, char *err, size_t errlen) {
    static const char *const known[] = {"model", "inputs", "prefix", "weight", "scale", NULL};
    return api->abi_minor >= 1 ? api->config_check_keys(cfg, known, err, errlen) : VD_PLUGIN_OK;
}

/* Resolves every model input to a feature handle and a field handle of the same name. */
static int resolve_inputs(vd_plugin_setup_t *s, gbdt_t *g, char *err, size_t errlen) {
    const vd_plugin_config_t *inputs = api->config_get(api->setup_config(s), "inputs");
    int32_t n = g->model.nfeatures;
    if (inputs && (int32_t)api->config_len(inputs) != n)
        return snprintf(err, errlen, "'inputs' lists %zu names, the model has %d features",
                        api->config_len(inputs), n),
               VD_PLUGIN_ERROR;
    if (!inputs && !g->model.feature_names)
        return snprintf(err, errlen, "the model has no feature_names: give 'inputs'"),
               VD_PLUGIN_ERROR;
    g->fields = calloc((size_t)n + 1, sizeof *g->fields);
    g->features = calloc((size_t)n + 1, sizeof *g->features);
    g->x = calloc((size_t)n + 1, sizeof *g->x);
    if (!g->fields || !g->features || !g->x) return VD_PLUGIN_ERROR;
    for (int32_t i = 0; i < n; i++) {
        const char *name = inputs ? api->config_string(api->config_at(inputs, (size_t)i))
                                  : g->model.feature_names[i];
        if (!name || !*name)
            return snprintf(err, errlen, "input %d has no name", i + 1), VD_PLUGIN_ERROR;
        g->fields[i] = api->setup_field(s, name);
        g->features[i] = api->setup_feature(s, name);
    }
    return VD_PLUGIN_OK;
}

static int gbdt_create(void *global, vd_plugin_setup_t *s, void **instance, char *err,
                       size_t errlen) {
    (void)global;
    const vd_plugin_config_t *cfg = api->setup_config(s);
    if (check_keys(cfg, err, errlen) != VD_PLUGIN_OK) return VD_PLUGIN_ERROR;
    const char *rel = api->config_string(api->config_get(cfg, "model"));
    char path[4096];
    if (!rel || api->setup_path(s, rel, path, sizeof path) != VD_PLUGIN_OK)
        return snprintf(err, errlen, "'model' must be the path of an XGBoost JSON model"),
               VD_PLUGIN_ERROR;
    gbdt_t *g = calloc(1, sizeof *g);
    if (!g) return VD_PLUGIN_ERROR;
    if (gbdt_model_load(path, &g->model, err, errlen) != 0) {
        free(g);
        return VD_PLUGIN_ERROR;
    }
    if (resolve_inputs(s, g, err, errlen) != VD_PLUGIN_OK) {
        gbdt_destroy(g);
        return VD_PLUGIN_ERROR;
    }
    api->config_number(api->config_get(cfg, "weight"), &g->weight);
    const char *scale = api->config_string(api->config_get(cfg, "scale"));
    if (scale && strcmp(scale, "output") != 0 && strcmp(scale, "margin") != 0) {
        snprintf(err, errlen, "'scale' is \"output\" or \"margin\", not \"%s\"", scale);
        gbdt_destroy(g);
        return VD_PLUGIN_ERROR;
    }
    g->margin_scale = scale && strcmp(scale, "margin") == 0;
    const char *prefix = api->config_string(api->config_get(cfg, "prefix"));
    char name[128];
    snprintf(name, sizeof name, "%s%s", prefix ? prefix : "gbdt_",
             g->model.logistic ? "p" : "margin");
    g->out = api->setup_feature(s, name);
    snprintf(name, sizeof name, "%smodel", prefix ? prefix : "gbdt_");
    g->out_model = api->setup_feature(s, name);
    if (api->abi_minor < 1 || api->file_version(path, g->version, sizeof g->version) != 0)
        snprintf(g->version, sizeof g->version, "%.90s", path); /* an older host: the path */
    if (api->abi_minor >= 1) { /* host 1.1: say which model this stage runs */
        api->setup_describe(s, "model", g->version);
        api->setup_describe(s, "objective", g->model.objective);
    }
    *instance = g;
    return VD_PLUGIN_OK;
}

/* One input as float32: a feature set earlier wins over the event field of the same name. */
static float input(const gbdt_t *g, vd_plugin_call_t *call, int32_t i) {
    double v;
    int b;
    vd_plugin_type_t t = api->feature_type(call, g->features[i]);
    if (t == VD_PLUGIN_INT || t == VD_PLUGIN_FLOAT)
        return api->feature_float(call, g->features[i], &v) == 0 ? (float)v : NAN;
    if (t == VD_PLUGIN_BOOL)
        return api->feature_bool(call, g->features[i], &b) == 0 ? (float)b : NAN;
    if (api->field_float(call, g->fields[i], &v) == VD_PLUGIN_OK) return (float)v;
    if (api->field_bool(call, g->fields[i], &b) == VD_PLUGIN_OK) return (float)b;
    return NAN;
}

static int gbdt_score(void *instance, vd_plugin_call_t *call) {
    gbdt_t *g = instance; /* score() is never called twice at once for an instance */
    for (int32_t i = 0; i < g->model.nfeatures; i++)
        g->x[i] = input(g, call, i);
    float margin = gbdt_model_margin(&g->model, g->x);
    float out = gbdt_model_link(&g->model, margin);
    api->set_feature_float(call, g->out, out);
    api->set_feature_string(call, g->out_model, g->version, strlen(g->version));
    if (g->weight != 0) {
        char detail[160];
        snprintf(detail, sizeof detail, "%s=%.4f model %s", g->model.logistic ? "p" : "margin",
                 (double)out, g->version);
        api->add_score(call, g->weight * (g->margin_scale ? margin : out), "gbdt", detail);
    }
    return VD_PLUGIN_OK;
}

static const vd_plugin_t gbdt = {
    .abi_major = VD_PLUGIN_ABI_MAJOR,
    .abi_minor = VD_PLUGIN_ABI_MINOR,
    .size = sizeof(vd_plugin_t),
    .name = "gbdt",
    .version = "1.0.0",
    .description = "XGBoost tree ensembles (JSON), with xgboost's own float32 arithmetic",
    .init = gbdt_init,
    .create = gbdt_create,
    .destroy = gbdt_destroy,
    .score = gbdt_score,
};

VD_PLUGIN_EXPORT const vd_plugin_t *verdict_plugin_entry(void) {
    return &gbdt;
}
