/* A policy test case as `verdict test` reads it from a test file (docs/testing-policies.md):
 * the event to decide, the state, lists and time it starts from, the events decided before it
 * and what the decision is expected to be. Everything lives in its suite's arena. */
#ifndef VD_PTEST_CASE_H
#define VD_PTEST_CASE_H

#include "base/vec.h"

#include <stddef.h>
#include <stdint.h>

#define VD_PTEST_WINDOWS 3 /* a counter's minute, hour and day (state/store.h VD_WINDOWS) */

/* What a case's time is when it gives none: 2025-01-01T12:00:00Z. */
#define VD_PTEST_DEFAULT_TIME 1735732800

/* An event packed as msgpack (a map with string keys). */
typedef struct vd_ptest_blob {
    const char *data;
    size_t len;
} vd_ptest_blob_t;

/* An event decided before the case's: at the case's time, or `ago` seconds before it. */
typedef struct vd_ptest_before {
    vd_ptest_blob_t event;
    int64_t ago;
} vd_ptest_before_t;

/* A person's report on an event, made after the events before the case: the campaigns the
 * event belongs to get it, as the report method gives it (docs/campaigns.md, "Reports"). */
typedef struct vd_ptest_report {
    vd_ptest_blob_t event;
    int bad;              /* label "bad" (1) or "good" (0) */
    const char *reporter; /* NULL: anonymous */
    size_t reporter_len;
    double weight;
} vd_ptest_report_t;

typedef enum { VD_PTEST_COUNTER, VD_PTEST_DISTINCT, VD_PTEST_LABEL } vd_ptest_seed_kind_t;

/* State a case starts from. */
typedef struct vd_ptest_seed {
    vd_ptest_seed_kind_t kind;
    const char *key;
    size_t keylen;
    int64_t counts[VD_PTEST_WINDOWS]; /* counter: what its minute, hour and day windows read */
    int64_t n;                        /* distinct: made-up values to add; label: seconds left */
    const char **values;              /* distinct: values to add, besides the n made-up ones */
    size_t *lens;                     /* and their lengths */
    size_t nvalues;
} vd_ptest_seed_t;

/* A list file of the policy directory, changed for one case. */
typedef struct vd_ptest_list {
    const char *path; /* relative to the policy directory */
    int replace;      /* 1: the entries replace the file's; 0: they are added to them */
    const char **entries;
    size_t nentries;
    int line;
} vd_ptest_list_t;

/* An expected feature value: a string, a boolean, a number from min to max, or no value. */
typedef enum { VD_PTEST_ABSENT, VD_PTEST_BOOL, VD_PTEST_NUMBER, VD_PTEST_STRING } vd_ptest_vkind_t;

typedef struct vd_ptest_value {
    vd_ptest_vkind_t kind;
    int b;
    double min, max; /* the same for an exact number */
    const char *s;
    size_t len;
} vd_ptest_value_t;

/* A name in an expectation (a rule, a tag, a fault) and the line it is written on. */
typedef struct vd_ptest_name {
    const char *name;
    int line;
} vd_ptest_name_t;

/* A list of names under one key of `expect` (fired = { ... }), and the key's line. */
typedef struct vd_ptest_names {
    int given;
    int line;
    vd_vec_t items; /* vd_ptest_name_t */
} vd_ptest_names_t;

typedef struct vd_ptest_feature {
    const char *name;
    vd_ptest_value_t want;
    int line;
} vd_ptest_feature_t;

/* What the decision must be. A key that is not given is not checked, except faults: without
 * it, the decision must have none. */
typedef struct vd_ptest_expect {
    int line; /* of `expect` */
    const char *action, *shadow_action, *stopped_by;
    int action_line, shadow_action_line, stopped_by_line;
    int has_score;
    double score_min, score_max; /* the same for an exact score */
    int score_line;
    vd_ptest_names_t fired, not_fired, tags, not_tags, faults;
    vd_vec_t features; /* vd_ptest_feature_t */
    int features_line;
} vd_ptest_expect_t;

typedef struct vd_ptest_case {
    const char *name;
    const char *file; /* the test file, as its directory was named */
    int line;         /* of `test "name"` */
    const char *pipeline;
    int pipeline_line;      /* the case's line when the pipeline is the test file's name */
    int pipeline_from_file; /* the case gave no pipeline: the test file's name is its */
    int64_t time;           /* the decision's wall-clock time, Unix seconds */
    vd_ptest_blob_t event;
    vd_vec_t before;  /* vd_ptest_before_t: decided first, in order */
    vd_vec_t reports; /* vd_ptest_report_t: made after them, in order */
    vd_vec_t seeds;   /* vd_ptest_seed_t */
    vd_vec_t lists;   /* vd_ptest_list_t */
    vd_ptest_expect_t expect;
} vd_ptest_case_t;

#endif
