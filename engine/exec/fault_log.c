#include "fault_log.h"

#include "base/clock.h"
#include "base/log.h"

#define FAULT_LOG_INTERVAL_NS (60 * (int64_t)1000000000)

void vd_fault_log_stage(const vd_stage_t *st, const char *rule, const char *msg) {
    vd_stat_node_t *n = st->stats;
    if (!n) return;
    unsigned long long skipped;
    if (!vd_log_limit_pass(&n->fault_log, FAULT_LOG_INTERVAL_NS, vd_now_ns(), &skipped)) return;
    vd_log(VD_LOG_WARN,
           "pipeline '%s', stage '%s', '%s': %s (%llu more faults of this stage "
           "since its last line; all are in stats)",
           n->pipeline, n->stage, rule, msg, skipped);
}

void vd_fault_log_rule(vd_rule_stat_t *n, const vd_rule_t *rule, const char *msg) {
    unsigned long long skipped;
    if (!vd_log_limit_pass(&n->fault_log, FAULT_LOG_INTERVAL_NS, vd_now_ns(), &skipped)) return;
    vd_log(VD_LOG_WARN,
           "pipeline '%s', stage '%s', rule '%s' (%s:%d) failed: %s (%llu more faults of this "
           "rule since its last line; all are in stats)",
           n->stage->pipeline, n->stage->stage, rule->name, rule->file, rule->line, msg, skipped);
}
