/* `verdict log --count`: the shown lines counted per pipeline and action (and per type, for
 * typed lines), printed as a table or as JSON. */
#ifndef VD_CLI_LOG_COUNT_H
#define VD_CLI_LOG_COUNT_H

#include "log_scan.h"

#include <stdint.h>
#include <stdio.h>

typedef struct vd_log_count_row {
    char *pipeline; /* NULL for a typed line, whose type is in action */
    char *action;   /* both copied, NUL-terminated (and may hold NULs: see the lengths) */
    size_t pipeline_len, action_len;
    uint64_t n;
} vd_log_count_row_t;

typedef struct vd_log_count {
    vd_log_count_row_t *rows; /* few: one per pipeline and action seen */
    size_t n, cap, last;      /* last: the row that counted the previous line */
    uint64_t total;
} vd_log_count_t;

/* Counts rec (scanned and checked). Returns 0, or -1 when memory ran out. */
int vd_log_count_add(vd_log_count_t *c, const vd_log_rec_t *rec);

/* Prints the counts, sorted by pipeline and action: a table (with each action's share of its
 * pipeline and a total) or, with json, {"total": N, "pipelines": {P: {A: N}}, "types": {T: N}}
 * ("types" only when typed lines were counted). Returns 0, or -1 when memory ran out. */
int vd_log_count_print(vd_log_count_t *c, FILE *out, int json);

/* Frees the rows; c is then empty. */
void vd_log_count_free(vd_log_count_t *c);

#endif
