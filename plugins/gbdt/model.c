#include "model.h"

#include <jansson.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int fail(char *err, size_t errlen, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
    return -1;
}

/* xgboost writes its parameters as strings ("5E-1", "57"). */
static int param_number(json_t *obj, const char *key, double *out) {
    json_t *v = json_object_get(obj, key);
    if (json_is_number(v)) {
        *out = json_number_value(v);
        return 0;
    }
    if (!json_is_string(v)) return -1;
    char *end;
    *out = strtod(json_string_value(v), &end);
    return *end == '\0' && end != json_string_value(v) ? 0 : -1;
}

static int int_array(json_t *a, int32_t n, int32_t *out) {
    if (!json_is_array(a) || (int32_t)json_array_size(a) != n) return -1;
    for (int32_t i = 0; i < n; i++) {
        json_t *v = json_array_get(a, (size_t)i);
        if (json_is_integer(v))
            out[i] = (int32_t)json_integer_value(v);
        else if (json_is_boolean(v))
            out[i] = json_is_true(v);
        else
            return -1;
    }
    return 0;
}

static int float_array(json_t *a, int32_t n, float *out) {
    if (!json_is_array(a) || (int32_t)json_array_size(a) != n) return -1;
    for (int32_t i = 0; i < n; i++) {
        json_t *v = json_array_get(a, (size_t)i);
        if (!json_is_number(v)) return -1;
        out[i] = (float)json_number_value(v); /* written to round-trip float32 */
    }
    return 0;
}

/* Every node's children are inside the tree and below it: evaluation cannot loop. */
static int check_tree(const gbdt_tree_t *t, int32_t nfeatures) {
    for (int32_t i = 0; i < t->nodes; i++) {
        if (t->left[i] == -1 && t->right[i] == -1) continue;
        if (t->left[i] <= i || t->right[i] <= i || t->left[i] >= t->nodes ||
            t->right[i] >= t->nodes)
            return -1;
        if (nfeatures > 0 && t->feature[i] >= (uint32_t)nfeatures) return -1;
    }
    return 0;
}

static int load_tree(json_t *jt, int idx, int32_t nfeatures, gbdt_tree_t *t, char *err,
                     size_t errlen) {
    json_t *left = json_object_get(jt, "left_children");
    if (!json_is_array(left) || json_array_size(left) == 0)
        return fail(err, errlen, "tree %d: no left_children", idx);
    int32_t n = (int32_t)json_array_size(left);
    json_t *types = json_object_get(jt, "split_type");
    for (size_t i = 0; json_is_array(types) && i < json_array_size(types); i++)
        if (json_integer_value(json_array_get(types, i)) != 0)
            return fail(err, errlen,
                        "tree %d has categorical splits, which this plugin does not support", idx);
    t->nodes = n;
    t->left = calloc((size_t)n, sizeof *t->left);
    t->right = calloc((size_t)n, sizeof *t->right);
    t->feature = calloc((size_t)n, sizeof *t->feature);
    t->value = calloc((size_t)n, sizeof *t->value);
    t->default_left = calloc((size_t)n, 1);
    int32_t *tmp = calloc((size_t)n, sizeof *tmp), *feat = calloc((size_t)n, sizeof *feat);
    int rc = !t->left || !t->right || !t->feature || !t->value || !t->default_left || !tmp || !feat;
    rc = rc || int_array(left, n, t->left) ||
         int_array(json_object_get(jt, "right_children"), n, t->right) ||
         int_array(json_object_get(jt, "split_indices"), n, feat) ||
         float_array(json_object_get(jt, "split_conditions"), n, t->value) ||
         int_array(json_object_get(jt, "default_left"), n, tmp);
    for (int32_t i = 0; !rc && i < n; i++) {
        t->default_left[i] = tmp[i] != 0;
        t->feature[i] = (uint32_t)feat[i];
    }
    free(tmp);
    free(feat);
    if (rc) return fail(err, errlen, "tree %d: missing or malformed node arrays", idx);
    if (check_tree(t, nfeatures) != 0)
        return fail(err, errlen, "tree %d: child or feature index out of range", idx);
    return 0;
}

static int load_trees(json_t *model, gbdt_model_t *m, char *err, size_t errlen) {
    json_t *trees = json_object_get(model, "trees"), *info = json_object_get(model, "tree_info");
    if (!json_is_array(trees)) return fail(err, errlen, "no gradient_booster.model.trees");
    for (size_t i = 0; json_is_array(info) && i < json_array_size(info); i++)
        if (json_integer_value(json_array_get(info, i)) != 0)
            return fail(err, errlen,
                        "trees for several classes: multiclass models are not "
                        "supported");
    m->ntrees = (int32_t)json_array_size(trees);
    if (!(m->trees = calloc(m->ntrees ? (size_t)m->ntrees : 1, sizeof *m->trees)))
        return fail(err, errlen, "out of memory");
    for (int32_t i = 0; i < m->ntrees; i++)
        if (load_tree(json_array_get(trees, (size_t)i), i, m->nfeatures, &m->trees[i], err, errlen))
            return -1;
    return 0;
}

static int load_learner(json_t *learner, gbdt_model_t *m, char *err, size_t errlen) {
    json_t *obj = json_object_get(json_object_get(learner, "objective"), "name");
    const char *objective = json_string_value(obj);
    if (!objective) return fail(err, errlen, "no learner.objective.name");
    snprintf(m->objective, sizeof m->objective, "%s", objective);
    if (strcmp(objective, "binary:logistic") == 0)
        m->logistic = 1;
    else if (strcmp(objective, "binary:logitraw") != 0)
        return fail(err, errlen,
                    "objective %s is not supported (binary:logistic or "
                    "binary:logitraw)",
                    objective);
    json_t *booster = json_object_get(learner, "gradient_booster");
    const char *name = json_string_value(json_object_get(booster, "name"));
    if (!name || strcmp(name, "gbtree") != 0)
        return fail(err, errlen, "booster %s is not supported (gbtree)", name ? name : "?");
    json_t *param = json_object_get(learner, "learner_model_param");
    double base_score, num_class = 0, num_target = 1, num_feature = 0;
    if (param_number(param, "base_score", &base_score) != 0)
        return fail(err, errlen, "no learner_model_param.base_score");
    param_number(param, "num_class", &num_class);
    param_number(param, "num_target", &num_target);
    param_number(param, "num_feature", &num_feature);
    if (num_class > 1 || num_target > 1)
        return fail(err, errlen, "multiclass or multi-target models are not supported");
    /* binary:logistic stores the base score as a probability and the trees add to its logit;
     * binary:logitraw stores the margin itself (xgboost's ProbToMargin of each objective). */
    if (m->logistic) {
        if (base_score <= 0 || base_score >= 1)
            return fail(err, errlen, "base_score %g is not a probability", base_score);
        m->base_margin = (float)-log(1.0 / base_score - 1.0);
    } else {
        m->base_margin = (float)base_score;
    }
    m->nfeatures = (int32_t)num_feature;
    json_t *names = json_object_get(learner, "feature_names");
    if (json_is_array(names) && json_array_size(names) > 0) {
        if ((int32_t)json_array_size(names) != m->nfeatures)
            return fail(err, errlen, "%zu feature names for %d features", json_array_size(names),
                        m->nfeatures);
        m->feature_names = calloc((size_t)m->nfeatures, sizeof *m->feature_names);
        for (int32_t i = 0; m->feature_names && i < m->nfeatures; i++) {
            const char *fn = json_string_value(json_array_get(names, (size_t)i));
            m->feature_names[i] = strdup(fn ? fn : "");
        }
    }
    return load_trees(json_object_get(booster, "model"), m, err, errlen);
}

int gbdt_model_load(const char *path, gbdt_model_t *m, char *err, size_t errlen) {
    memset(m, 0, sizeof *m);
    json_error_t jerr;
    json_t *root = json_load_file(path, JSON_DECODE_ANY, &jerr);
    if (!root)
        return fail(err, errlen, "%s: not a readable JSON model: %s (line %d)", path, jerr.text,
                    jerr.line);
    json_t *version = json_object_get(root, "version");
    if (json_is_array(version) && json_array_size(version) == 3)
        snprintf(m->version, sizeof m->version, "%lld.%lld.%lld",
                 (long long)json_integer_value(json_array_get(version, 0)),
                 (long long)json_integer_value(json_array_get(version, 1)),
                 (long long)json_integer_value(json_array_get(version, 2)));
    json_t *learner = json_object_get(root, "learner");
    int rc = json_is_object(learner) ? load_learner(learner, m, err, errlen)
                                     : fail(err, errlen, "no 'learner': not an XGBoost JSON model");
    json_decref(root);
    if (rc) {
        char why[512];
        snprintf(why, sizeof why, "%s", err);
        snprintf(err, errlen, "%s: %s", path, why);
        gbdt_model_free(m);
    }
    return rc;
}

void gbdt_model_free(gbdt_model_t *m) {
    for (int32_t i = 0; m->trees && i < m->ntrees; i++) {
        gbdt_tree_t *t = &m->trees[i];
        free(t->left);
        free(t->right);
        free(t->feature);
        free(t->value);
        free(t->default_left);
    }
    free(m->trees);
    for (int32_t i = 0; m->feature_names && i < m->nfeatures; i++)
        free(m->feature_names[i]);
    free(m->feature_names);
    memset(m, 0, sizeof *m);
}

float gbdt_model_margin(const gbdt_model_t *m, const float *x) {
    float sum = m->base_margin;
    for (int32_t t = 0; t < m->ntrees; t++) {
        const gbdt_tree_t *tr = &m->trees[t];
        int32_t n = 0;
        while (tr->left[n] != -1) {
            float v = x[tr->feature[n]];
            n = isnan(v) ? (tr->default_left[n] ? tr->left[n] : tr->right[n])
                         : (v < tr->value[n] ? tr->left[n] : tr->right[n]);
        }
        sum += tr->value[n];
    }
    return sum;
}

float gbdt_model_predict(const gbdt_model_t *m, const float *x) {
    float margin = gbdt_model_margin(m, x);
    return m->logistic ? 1.0f / (1.0f + expf(-margin)) : margin;
}
