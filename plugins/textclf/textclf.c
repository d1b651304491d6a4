/* textclf: a spam text classifier over a whole message. It reads the raw RFC 5322 bytes from
 * an event field, parses the MIME structure, hashes the tokens and scores them with a
 * logistic regression trained by verdict_train (sdk/python).
 *
 *   plugin "textclf" {
 *     model  = verdict.data_dir .. "/models/textclf.bin",
 *     field  = "raw",        -- the event field with the message bytes (default)
 *     prefix = "textclf_",   -- features textclf_log_odds, textclf_p, textclf_model
 *     weight = 10,           -- adds weight * probability as reason "textclf"; 0: none
 *     scale  = "probability",  -- or "log_odds": adds weight * log-odds (negative for ham)
 *     statistics = false,      -- true: also the msg_* statistics features (for a gbdt stage)
 *     max_bytes = 1048576,     -- reads at most this many bytes of a message; the rest is ignored
 *   }
 */
#include "features.h"
#include "model.h"
#include "stats.h"

#include <verdict/plugin.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const vd_host_api_t *api;

typedef struct textclf {
    tc_model_t model;
    vd_plugin_field_t field;
    vd_plugin_feature_t f_log_odds, f_p, f_model;
    double weight;
    int log_odds_scale; /* the reason's score is weight * log-odds, not weight * probability */
    int statistics;     /* also emit the msg_* statistics */
    size_t max_bytes;   /* bytes of a message read at most */
    vd_plugin_feature_t f_stats[TC_NSTATS];
    char version[96];
} textclf_t;

static int textclf_init(const vd_host_api_t *host, void **global, char *err, size_t errlen) {
    (void)global, (void)err, (void)errlen;
    api = host;
    return VD_PLUGIN_OK;
}

static void textclf_destroy(void *instance) {
    textclf_t *t = instance;
    tc_model_free(&t->model);
    free(t);
}

static void feature(vd_plugin_setup_t *s, const char *prefix, const char *name,
                    vd_plugin_feature_t *out) {
    char full[128];
    snprintf(full, sizeof full, "%s%s", prefix, name);
    *out = api->setup_feature(s, full);
}

/* max_bytes: a whole number of bytes in [CAP_MIN, CAP_MAX]; absent means the default. */
#define CAP_MIN 1024.0
#define CAP_MAX 1073741824.0

static int max_bytes(const vd_plugin_config_t *c, size_t *out, char *err, size_t errlen) {
    double v;
    *out = TC_MAX_BYTES_DEFAULT;
    if (!c) return VD_PLUGIN_OK;
    if (api->config_number(c, &v) != VD_PLUGIN_OK || v != floor(v) || v < CAP_MIN || v > CAP_MAX)
        return snprintf(err, errlen, "'max_bytes' is a whole number of bytes from %.0f to %.0f",
                        CAP_MIN, CAP_MAX),
               VD_PLUGIN_ERROR;
    *out = (size_t)v;
    return VD_PLUGIN_OK;
}

static int textclf_create(void *global, vd_plugin_setup_t *s, void **instance, char *err,
                          size_t errlen) {
    (void)global;
    const vd_plugin_config_t *cfg = api->setup_config(s);
    static const char *const known[] = {"model", "field",      "prefix",    "weight",
                                        "scale", "statistics", "max_bytes", NULL};
    if (api->abi_minor >= 1 && api->config_check_keys(cfg, known, err, errlen) != VD_PLUGIN_OK)
        return VD_PLUGIN_ERROR;
    const char *scale = api->config_string(api->config_get(cfg, "scale"));
    if (scale && strcmp(scale, "probability") != 0 && strcmp(scale, "log_odds") != 0)
        return snprintf(err, errlen, "'scale' is \"probability\" or \"log_odds\", not \"%s\"",
                        scale),
               VD_PLUGIN_ERROR;
    size_t cap;
    if (max_bytes(api->config_get(cfg, "max_bytes"), &cap, err, errlen) != VD_PLUGIN_OK)
        return VD_PLUGIN_ERROR;
    const char *rel = api->config_string(api->config_get(cfg, "model"));
    char path[4096];
    if (!rel || api->setup_path(s, rel, path, sizeof path) != VD_PLUGIN_OK)
        return snprintf(err, errlen, "'model' must be the path of a textclf model file"),
               VD_PLUGIN_ERROR;
    textclf_t *t = calloc(1, sizeof *t);
    if (!t) return VD_PLUGIN_ERROR;
    if (tc_model_load(path, &t->model, err, errlen) != 0) {
        free(t);
        return VD_PLUGIN_ERROR;
    }
    const char *field = api->config_string(api->config_get(cfg, "field"));
    const char *prefix = api->config_string(api->config_get(cfg, "prefix"));
    if (!prefix) prefix = "textclf_";
    t->field = api->setup_field(s, field ? field : "raw");
    feature(s, prefix, "log_odds", &t->f_log_odds);
    feature(s, prefix, "p", &t->f_p);
    feature(s, prefix, "model", &t->f_model);
    api->config_number(api->config_get(cfg, "weight"), &t->weight);
    t->max_bytes = cap;
    t->log_odds_scale = scale && strcmp(scale, "log_odds") == 0;
    api->config_bool(api->config_get(cfg, "statistics"), &t->statistics);
    for (int i = 0; t->statistics && i < TC_NSTATS; i++)
        feature(s, "msg_", tc_stat_names[i], &t->f_stats[i]);
    if (api->abi_minor < 1 || api->file_version(path, t->version, sizeof t->version) != 0)
        snprintf(t->version, sizeof t->version, "%.90s", path); /* an older host: the path */
    if (api->abi_minor >= 1) api->setup_describe(s, "model", t->version); /* host 1.1 */
    *instance = t;
    return VD_PLUGIN_OK;
}

static int textclf_score(void *instance, vd_plugin_call_t *call) {
    textclf_t *t = instance;
    const char *raw;
    size_t len, n;
    uint32_t *buckets = NULL;
    tc_pieces_t pc;
    double st[TC_NSTATS];
    if (api->field_string(call, t->field, &raw, &len) != VD_PLUGIN_OK) return VD_PLUGIN_OK;
    if (len > t->max_bytes) len = t->max_bytes; /* the score reflects the first max_bytes */
    int rc = tc_parse((const unsigned char *)raw, len, &pc);
    if (rc == 0) rc = tc_pieces_buckets(&pc, t->model.bits, t->model.seed, &buckets, &n);
    if (rc == 0 && t->statistics) rc = tc_stats(&pc, st);
    tc_pieces_free(&pc);
    if (rc != 0) {
        free(buckets);
        api->set_error(call, "out of memory parsing the message");
        return VD_PLUGIN_ERROR;
    }
    double lo = tc_model_log_odds(&t->model, buckets, n);
    free(buckets);
    for (int i = 0; t->statistics && i < TC_NSTATS; i++)
        api->set_feature_float(call, t->f_stats[i], st[i]);
    double p = 1.0 / (1.0 + exp(-lo));
    api->set_feature_float(call, t->f_log_odds, lo);
    api->set_feature_float(call, t->f_p, p);
    api->set_feature_string(call, t->f_model, t->version, strlen(t->version));
    if (t->weight != 0) {
        char detail[160];
        snprintf(detail, sizeof detail, "p=%.4f model %s", p, t->version);
        api->add_score(call, t->weight * (t->log_odds_scale ? lo : p), "textclf", detail);
    }
    return VD_PLUGIN_OK;
}

static const vd_plugin_t textclf = {
    .abi_major = VD_PLUGIN_ABI_MAJOR,
    .abi_minor = VD_PLUGIN_ABI_MINOR,
    .size = sizeof(vd_plugin_t),
    .name = "textclf",
    .version = "1.0.0",
    .description = "hashed-token logistic regression over whole MIME messages",
    .init = textclf_init,
    .create = textclf_create,
    .destroy = textclf_destroy,
    .score = textclf_score,
};

VD_PLUGIN_EXPORT const vd_plugin_t *verdict_plugin_entry(void) {
    return &textclf;
}
