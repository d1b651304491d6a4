#include "fault_log.h"

#include "base/clock.h"
#include "base/log.h"

#include <stdio.h>

#define FAULT_LOG_INTERVAL_NS (60 * (int64_t)1000000000)

/* Whether the fault limited by l is logged now; if so, writes into tail what the line says of
 * the faults around it (what: "stage" or "rule"). */
static int pass(vd_log_limit_t *l, const char *what, char *tail, size_t cap) {
    int first = l->logged_ns == 0;
    unsigned long long skipped;
    if (!vd_log_limit_pass(l, FAULT_LOG_INTERVAL_NS, vd_now_ns(), &skipped)) return 0;
    if (first)
        snprintf(tail, cap, "further faults of this %s: a line a minute at most; all are in stats",
                 what);
    else
        snprintf(tail, cap, "%llu more faults of this %s since its last line; all are in stats",
                 skipped, what);
    return 1;
}

void vd_fault_log_stage(const vd_stage_t *st, const char *rule, const char *msg) {
    vd_stat_node_t *n = st->stats;
    char tail[120];
    if (!n || !pass(&n->fault_log, "stage", tail, sizeof tail)) return;
    vd_log(VD_LOG_WARN, "pipeline '%s', stage '%s', '%s': %s (%s)", n->pipeline, n->stage, rule,
           msg, tail);
}

void vd_fault_log_rule(vd_rule_stat_t *n, const vd_rule_t *rule, const char *msg) {
    char tail[120];
    if (!pass(&n->fault_log, "rule", tail, sizeof tail)) return;
    vd_log(VD_LOG_WARN, "pipeline '%s', stage '%s', rule '%s' (%s:%d) failed: %s (%s)",
           n->stage->pipeline, n->stage->stage, rule->name, rule->file, rule->line, msg, tail);
}
