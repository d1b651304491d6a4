#include "anomaly.h"

#include "base/error.h"

#include <math.h>
#include <string.h>

/* The models' key space among the store's records. */
#define KEY_TAG                                                                                    \
    "\x02"                                                                                         \
    "anomaly:"
#define MAX_KEY 1024

typedef struct call {
    int64_t t, every;
    double value;
    vd_anomaly_result_t *out;
    vd_anomaly_model_t *copy_to; /* vd_anomaly_get */
    int rc;
} call_t;

static int on_model(void *ud, void *payload, int made) {
    call_t *c = ud;
    vd_anomaly_model_t *m = payload;
    if (!m) return VD_ENOTFOUND;
    if (c->copy_to) {
        *c->copy_to = *m;
        return 0;
    }
    if (made) vd_anomaly_model_init(m);
    int learn = !c->every || !m->seen || c->t / c->every != m->last_time / c->every;
    if (learn) {
        c->rc = vd_anomaly_model_observe(m, c->t, c->value, c->out);
    } else { /* within the period: scored on a copy */
        vd_anomaly_model_t copy = *m;
        c->rc = vd_anomaly_model_observe(&copy, c->t, c->value, c->out);
    }
    return 0;
}

static int with_model(vd_store_t *s, const char *key, size_t len, int create, call_t *c) {
    if (len > MAX_KEY) return VD_EINVAL;
    char k[MAX_KEY + sizeof KEY_TAG];
    memcpy(k, KEY_TAG, sizeof KEY_TAG - 1);
    memcpy(k + sizeof KEY_TAG - 1, key, len);
    return vd_store_record(s, k, sizeof KEY_TAG - 1 + len, sizeof(vd_anomaly_model_t), create,
                           on_model, c);
}

int vd_anomaly_observe(vd_store_t *s, const char *key, size_t len, int64_t t, double value,
                       int64_t every, vd_anomaly_result_t *out) {
    memset(out, 0, sizeof *out);
    if (!isfinite(value) || fabs(value) > VD_ANOMALY_VALUE_MAX || every < 0) return VD_EINVAL;
    call_t c = {.t = t, .every = every, .value = value, .out = out};
    int rc = with_model(s, key, len, 1, &c);
    return rc ? rc : c.rc;
}

int vd_anomaly_get(vd_store_t *s, const char *key, size_t len, vd_anomaly_model_t *out) {
    call_t c = {.copy_to = out};
    return with_model(s, key, len, 0, &c);
}
