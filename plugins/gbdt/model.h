/* XGBoost tree ensembles (JSON model format) and their exact evaluation.
 *
 * Parity with xgboost's own predictions is the point: inputs are float32, a node goes left
 * iff x < threshold in float32 (or its default direction when x is missing), leaf values are
 * summed in float32 in tree order starting from the base margin, and the logistic link is
 * xgboost's float sigmoid. */
#ifndef GBDT_MODEL_H
#define GBDT_MODEL_H

#include <stddef.h>
#include <stdint.h>

/* One node in 16 bytes. A leaf points to itself (both children are its own index), so a
 * walk can take a fixed number of steps without asking whether it has arrived. */
typedef struct gbdt_node {
    float value;      /* split threshold, or the leaf value for leaves */
    uint32_t feature; /* split feature index; bit 31: missing values go left */
    int32_t left;
    int32_t right;
} gbdt_node_t;

#define GBDT_DEFAULT_LEFT 0x80000000u

/* What a model may hold: a file past these is refused at load, so that no model makes a
 * decision slow (a walk takes up to GBDT_MAX_DEPTH steps per tree) or needs unbounded memory. */
#define GBDT_MAX_FEATURES   100000
#define GBDT_MAX_TREES      100000
#define GBDT_MAX_NODES      (1 << 20) /* per tree */
#define GBDT_MAX_DEPTH      256
#define GBDT_MAX_DEPTH_TEXT "256"

typedef struct gbdt_tree {
    gbdt_node_t *nodes;
    int32_t n;
    int32_t depth; /* longest path from the root to a leaf */
} gbdt_tree_t;

typedef struct gbdt_model {
    gbdt_tree_t *trees;
    int32_t ntrees;
    char **feature_names; /* NULL when the model has none */
    int32_t nfeatures;
    float base_margin;
    int logistic; /* binary:logistic (probability out); 0 = binary:logitraw (margin out) */
    char objective[32];
    char version[48]; /* xgboost version that wrote the file, e.g. "1.7.4" */
} gbdt_model_t;

/* Loads a model written by xgboost's save_model("x.json"). Refuses, with a message naming the
 * file and the problem: other boosters, objectives, multiclass or multi-target models,
 * categorical splits, a num_feature missing or out of range, and trees that are not trees
 * (children out of range or shared, splits on features past num_feature, values that are not
 * finite, past the limits above). A model it loads cannot make gbdt_model_margin read outside
 * its arrays or the row. Returns 0 or -1. */
int gbdt_model_load(const char *path, gbdt_model_t *m, char *err, size_t errlen);

/* The same from the len bytes of a JSON document in memory; name stands for the file in
 * messages. */
int gbdt_model_parse(const char *json, size_t len, const char *name, gbdt_model_t *m, char *err,
                     size_t errlen);

void gbdt_model_free(gbdt_model_t *m);

/* The raw margin for one row of nfeatures float32 values (NaN = missing). */
float gbdt_model_margin(const gbdt_model_t *m, const float *x);

/* The model's output for a margin: xgboost's float sigmoid for binary:logistic, the margin
 * itself for logitraw. */
float gbdt_model_link(const gbdt_model_t *m, float margin);

/* The model's output for one row: gbdt_model_link of its margin. */
float gbdt_model_predict(const gbdt_model_t *m, const float *x);

#endif
