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
    for (int32_t i = 0; i < t->n; i++) {
        const gbdt_node_t *nd = &t->nodes[i];
        if (nd->left == -1 && nd->right == -1) continue;
        if (nd->left <= i || nd->right <= i || nd->left >= t->n || nd->right >= t->n) return -1;
        if (nfeatures > 0 && (nd->feature & ~GBDT_DEFAULT_LEFT) >= (uint32_t)nfeatures) return -1;
    }
    return 0;
}

/* Leaves become self-loops and the depth is measured (children always follow parents). */
static void finish_tree(gbdt_tree_t *t) {
    int32_t *depth = calloc(t->n > 0 ? (size_t)t->n : 1, sizeof *depth);
    t->depth = 0;
    for (int32_t i = 0; i < t->n; i++) {
        gbdt_node_t *nd = &t->nodes[i];
        int32_t d = depth ? depth[i] : 64;
        if (nd->left == -1) {
            nd->left = nd->right = i;
            nd->feature = 0;
            if (d > t->depth) t->depth = d;
        } else if (depth) {
            depth[nd->left] = depth[nd->right] = d + 1;
        }
    }
    free(depth);
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
    t->n = n;
    t->nodes = calloc((size_t)n, sizeof *t->nodes);
    int32_t *left_i = calloc((size_t)n, sizeof(int32_t)),
            *right_i = calloc((size_t)n, sizeof(int32_t));
    int32_t *feat = calloc((size_t)n, sizeof(int32_t)), *dl = calloc((size_t)n, sizeof(int32_t));
    float *val = calloc((size_t)n, sizeof(float));
    int rc = !t->nodes || !left_i || !right_i || !feat || !dl || !val;
    rc = rc || int_array(left, n, left_i) ||
         int_array(json_object_get(jt, "right_children"), n, right_i) ||
         int_array(json_object_get(jt, "split_indices"), n, feat) ||
         float_array(json_object_get(jt, "split_conditions"), n, val) ||
         int_array(json_object_get(jt, "default_left"), n, dl);
    for (int32_t i = 0; !rc && i < n; i++) {
        if (feat[i] < 0) rc = 1;
        t->nodes[i] = (gbdt_node_t){.value = val[i],
                                    .feature = (uint32_t)feat[i] | (dl[i] ? GBDT_DEFAULT_LEFT : 0),
                                    .left = left_i[i],
                                    .right = right_i[i]};
    }
    free(left_i);
    free(right_i);
    free(feat);
    free(dl);
    free(val);
    if (rc) return fail(err, errlen, "tree %d: missing or malformed node arrays", idx);
    if (check_tree(t, nfeatures) != 0)
        return fail(err, errlen, "tree %d: child or feature index out of range", idx);
    finish_tree(t);
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
    for (int32_t i = 0; m->trees && i < m->ntrees; i++)
        free(m->trees[i].nodes);
    free(m->trees);
    for (int32_t i = 0; m->feature_names && i < m->nfeatures; i++)
        free(m->feature_names[i]);
    free(m->feature_names);
    memset(m, 0, sizeof *m);
}

/* The child a row goes to, without a branch: the data decides, and mispredicted branches
 * would cost more than the arithmetic. */
static inline int32_t step(const gbdt_node_t *nd, const float *x) {
    float v = x[nd->feature & ~GBDT_DEFAULT_LEFT];
    int32_t missing = v != v, lt = v < nd->value;
    int32_t go_left = (lt & !missing) | ((int32_t)(nd->feature >> 31) & missing);
    return nd->right ^ ((nd->left ^ nd->right) & -go_left);
}

static int32_t max4(int32_t a, int32_t b, int32_t c, int32_t d) {
    int32_t m = a > b ? a : b, n = c > d ? c : d;
    return m > n ? m : n;
}

float gbdt_model_margin(const gbdt_model_t *m, const float *x) {
    float sum = m->base_margin;
    const gbdt_tree_t *t = m->trees;
    int32_t i = 0;
    /* Four trees at a time: their walks are independent, so the CPU overlaps them. The leaf
     * values are still added one by one in tree order, as xgboost does. */
    for (; i + 4 <= m->ntrees; i += 4) {
        const gbdt_node_t *a = t[i].nodes, *b = t[i + 1].nodes, *c = t[i + 2].nodes,
                          *d = t[i + 3].nodes;
        int32_t ia = 0, ib = 0, ic = 0, id = 0;
        for (int32_t k = max4(t[i].depth, t[i + 1].depth, t[i + 2].depth, t[i + 3].depth); k > 0;
             k--) {
            ia = step(&a[ia], x);
            ib = step(&b[ib], x);
            ic = step(&c[ic], x);
            id = step(&d[id], x);
        }
        sum += a[ia].value;
        sum += b[ib].value;
        sum += c[ic].value;
        sum += d[id].value;
    }
    for (; i < m->ntrees; i++) {
        int32_t n = 0;
        for (int32_t k = t[i].depth; k > 0; k--)
            n = step(&t[i].nodes[n], x);
        sum += t[i].nodes[n].value;
    }
    return sum;
}

float gbdt_model_link(const gbdt_model_t *m, float margin) {
    return m->logistic ? 1.0f / (1.0f + expf(-margin)) : margin;
}

float gbdt_model_predict(const gbdt_model_t *m, const float *x) {
    return gbdt_model_link(m, gbdt_model_margin(m, x));
}
