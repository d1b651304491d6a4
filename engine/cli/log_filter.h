/* Which decision-log lines `verdict log` shows. Each filter given must hold (and); a filter
 * given several names holds when any of them does (or). */
#ifndef VD_CLI_LOG_FILTER_H
#define VD_CLI_LOG_FILTER_H

#include "log_scan.h"

#include <stddef.h>
#include <stdint.h>

typedef struct vd_log_names {
    vd_log_str_t *v; /* borrowed strings (the command line's) */
    size_t n, cap;
} vd_log_names_t;

typedef struct vd_log_filter {
    vd_log_names_t pipelines, actions, shadow_actions, rules, ids;
    vd_log_names_t types;       /* none: decision records only; "decision" names those */
    int64_t since_ms, until_ms; /* since <= time < until */
    int has_since, has_until;
    int changed_shadow; /* the shadow action differs from the live one */
    int decisions;      /* set by vd_log_filter_ready: decision records are wanted */
} vd_log_filter_t;

/* Adds a name (borrowed: it must outlive the filter). Returns 0, or -1 when memory ran out. */
int vd_log_names_add(vd_log_names_t *names, const char *name);

/* Adds the decision ids in text, separated by commas or white space. Returns the number
 * added, or -1 when memory ran out. */
int vd_log_filter_add_ids(vd_log_filter_t *f, const char *text);

/* Call once all filters are added, before matching. */
void vd_log_filter_ready(vd_log_filter_t *f);

/* Whether the line rec (scanned and checked) is shown. A typed line is shown when --type
 * names it; the other filters apply to decision records. */
int vd_log_filter_match(const vd_log_filter_t *f, const vd_log_rec_t *rec);

/* Frees the name lists (not the borrowed names); f is then empty. */
void vd_log_filter_free(vd_log_filter_t *f);

#endif
