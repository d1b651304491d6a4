#include "model.h"

#include <jansson.h>
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
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
    if (!json_is_array(a) || json_array_size(a) != (size_t)n) return -1;
    for (int32_t i = 0; i < n; i++) {
        json_t *v = json_array_get(a, (size_t)i);
        if (json_is_integer(v) && json_integer_value(v) >= INT32_MIN &&
            json_integer_value(v) <= INT32_MAX)
            out[i] = (int32_t)json_integer_value(v);
        else if (json_is_boolean(v))
            out[i] = json_is_true(v);
        else
            return -1;
    }
    return 0;
}

static int float_array(json_t *a, int32_t n, float *out) {
    if (!json_is_array(a) || json_array_size(a) != (size_t)n) return -1;
    for (int32_t i = 0; i < n; i++) {
        json_t *v = json_array_get(a, (size_t)i);
        if (!json_is_number(v)) return -1;
        out[i] = (float)json_number_value(v); /* written to round-trip float32 */
    }
    return 0;
}

/* What check_tree learns about each node on its way down. */
typedef struct tree_scratch {
    unsigned char *has_parent; /* some split names the node as a child */
    unsigned char *reached;    /* a walk from node 0 can arrive there */
    int32_t *depth;            /* splits between node 0 (or the node's own root) and it */
    float max_leaf;            /* the largest magnitude of a leaf a walk can arrive at */
} tree_scratch_t;

/* Why the nodes do not make a tree that a row can walk from node 0, or NULL when they do.
 * Every split has two distinct children after it and inside the tree, and no node is the
 * child of two, so that walks cannot loop or leave the array; features are inside the row,
 * values are finite, and the depth is bounded. Nodes no split reaches (xgboost leaves pruned
 * nodes in place) are allowed. Sets t->depth, the longest walk to a leaf, and s->max_leaf;
 * *bad: the node. */
static const char *check_tree(gbdt_tree_t *t, int32_t nfeatures, tree_scratch_t *s, int32_t *bad) {
    t->depth = 0;
    s->reached[0] = 1;
    for (int32_t i = 0; i < t->n; i++) {
        const gbdt_node_t *nd = &t->nodes[i];
        *bad = i;
        if (!isfinite(nd->value)) return "a threshold or leaf value that is not a finite float32";
        if (nd->left == -1 && nd->right == -1) {
            if (s->reached[i] && s->depth[i] > t->depth) t->depth = s->depth[i];
            if (s->reached[i] && fabsf(nd->value) > s->max_leaf) s->max_leaf = fabsf(nd->value);
            continue;
        }
        if (nd->left <= i || nd->right <= i || nd->left >= t->n || nd->right >= t->n)
            return "a child index out of range (children come after their parent)";
        if (nd->left == nd->right) return "both children are the same node";
        if (s->has_parent[nd->left] || s->has_parent[nd->right])
            return "a child that is already the child of another node";
        if ((nd->feature & ~GBDT_DEFAULT_LEFT) >= (uint32_t)nfeatures)
            return "a split on a feature index at or past num_feature";
        if (s->depth[i] >= GBDT_MAX_DEPTH) return "deeper than " GBDT_MAX_DEPTH_TEXT " levels";
        s->has_parent[nd->left] = s->has_parent[nd->right] = 1;
        s->reached[nd->left] = s->reached[nd->right] = s->reached[i];
        s->depth[nd->left] = s->depth[nd->right] = s->depth[i] + 1;
    }
    return NULL;
}

/* Leaves become self-loops, so that a walk can take t->depth steps from any reached node. */
static void finish_tree(gbdt_tree_t *t) {
    for (int32_t i = 0; i < t->n; i++) {
        gbdt_node_t *nd = &t->nodes[i];
        if (nd->left == -1) {
            nd->left = nd->right = i;
            nd->feature = 0;
        }
    }
}

/* Checks the tree (check_tree) with its scratch arrays; returns 0 or fails with the reason.
 * *max_leaf: the largest magnitude the tree can add to a margin. */
static int validate_tree(gbdt_tree_t *t, int idx, int32_t nfeatures, float *max_leaf, char *err,
                         size_t errlen) {
    tree_scratch_t s = {calloc((size_t)t->n, 1), calloc((size_t)t->n, 1),
                        calloc((size_t)t->n, sizeof(int32_t)), 0.0f};
    int32_t bad = 0;
    const char *why = !s.has_parent || !s.reached || !s.depth ? "out of memory"
                                                              : check_tree(t, nfeatures, &s, &bad);
    free(s.has_parent);
    free(s.reached);
    free(s.depth);
    if (why) return fail(err, errlen, "tree %d, node %d: %s", idx, bad, why);
    finish_tree(t);
    *max_leaf = s.max_leaf;
    return 0;
}

static int load_tree(json_t *jt, int idx, int32_t nfeatures, gbdt_tree_t *t, float *max_leaf,
                     char *err, size_t errlen) {
    json_t *left = json_object_get(jt, "left_children");
    if (!json_is_array(left) || json_array_size(left) == 0)
        return fail(err, errlen, "tree %d: no left_children", idx);
    if (json_array_size(left) > GBDT_MAX_NODES)
        return fail(err, errlen, "tree %d: more than %d nodes", idx, GBDT_MAX_NODES);
    int32_t n = (int32_t)json_array_size(left);
    double num_nodes;
    if (param_number(json_object_get(jt, "tree_param"), "num_nodes", &num_nodes) == 0 &&
        num_nodes != n)
        return fail(err, errlen, "tree %d: tree_param.num_nodes is %g, but it has %d nodes", idx,
                    num_nodes, n);
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
    if (rc)
        return fail(err, errlen,
                    "tree %d: missing or malformed node arrays (left_children, right_children, "
                    "split_indices, split_conditions, default_left: %d integers or numbers each)",
                    idx, n);
    return validate_tree(t, idx, nfeatures, max_leaf, err, errlen);
}

static int load_trees(json_t *model, gbdt_model_t *m, char *err, size_t errlen) {
    json_t *trees = json_object_get(model, "trees"), *info = json_object_get(model, "tree_info");
    if (!json_is_array(trees)) return fail(err, errlen, "no gradient_booster.model.trees");
    if (json_is_array(info) && json_array_size(info) != json_array_size(trees))
        return fail(err, errlen, "tree_info has %zu entries for %zu trees", json_array_size(info),
                    json_array_size(trees));
    if (json_array_size(trees) > GBDT_MAX_TREES)
        return fail(err, errlen, "more than %d trees", GBDT_MAX_TREES);
    for (size_t i = 0; json_is_array(info) && i < json_array_size(info); i++)
        if (json_integer_value(json_array_get(info, i)) != 0)
            return fail(err, errlen,
                        "trees for several classes: multiclass models are not "
                        "supported");
    m->ntrees = (int32_t)json_array_size(trees);
    if (!(m->trees = calloc(m->ntrees ? (size_t)m->ntrees : 1, sizeof *m->trees)))
        return fail(err, errlen, "out of memory");
    /* A margin is the base margin plus one leaf per tree, added in float32 in tree order.
     * Rounding is monotone, so when the largest magnitudes, added in that order, stay finite,
     * every margin does. */
    float reach = fabsf(m->base_margin), max_leaf = 0.0f;
    for (int32_t i = 0; i < m->ntrees; i++) {
        if (load_tree(json_array_get(trees, (size_t)i), i, m->nfeatures, &m->trees[i], &max_leaf,
                      err, errlen))
            return -1;
        reach += max_leaf;
        if (!isfinite(reach))
            return fail(err, errlen,
                        "tree %d: leaf values so large that a margin could overflow float32", i);
    }
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
    if (param_number(param, "num_feature", &num_feature) != 0)
        return fail(err, errlen,
                    "no learner_model_param.num_feature: the model must say how many features "
                    "a row has");
    if (!(num_feature >= 1 && num_feature <= GBDT_MAX_FEATURES) ||
        num_feature != floor(num_feature))
        return fail(err, errlen,
                    "learner_model_param.num_feature is %g: a whole number from 1 to %d expected",
                    num_feature, GBDT_MAX_FEATURES);
    if (num_class > 1 || num_target > 1)
        return fail(err, errlen, "multiclass or multi-target models are not supported");
    if (!isfinite(base_score))
        return fail(err, errlen, "learner_model_param.base_score is not a finite number");
    /* binary:logistic stores the base score as a probability and the trees add to its logit;
     * binary:logitraw stores the margin itself (xgboost's ProbToMargin of each objective). */
    if (m->logistic) {
        if (base_score <= 0 || base_score >= 1)
            return fail(err, errlen, "base_score %g is not a probability", base_score);
        m->base_margin = (float)-log(1.0 / base_score - 1.0);
    } else {
        m->base_margin = (float)base_score;
    }
    if (!isfinite(m->base_margin))
        return fail(err, errlen, "base_score %g makes a margin outside float32", base_score);
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

/* What loading from a file and from memory share: root is the parsed document (NULL when it
 * did not parse, with jerr saying why), name the file it came from, for messages. */
static int load_document(json_t *root, const json_error_t *jerr, const char *name, gbdt_model_t *m,
                         char *err, size_t errlen) {
    memset(m, 0, sizeof *m);
    if (!root)
        return fail(err, errlen, "%s: not a readable JSON model: %s (line %d)", name, jerr->text,
                    jerr->line);
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
        snprintf(err, errlen, "%s: %s", name, why);
        gbdt_model_free(m);
    }
    return rc;
}

int gbdt_model_load(const char *path, gbdt_model_t *m, char *err, size_t errlen) {
    json_error_t jerr;
    return load_document(json_load_file(path, JSON_DECODE_ANY, &jerr), &jerr, path, m, err, errlen);
}

int gbdt_model_parse(const char *json, size_t len, const char *name, gbdt_model_t *m, char *err,
                     size_t errlen) {
    json_error_t jerr;
    return load_document(json_loadb(json, len, JSON_DECODE_ANY, &jerr), &jerr, name, m, err,
                         errlen);
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
