/* The log lines of faults: a rule that fails on every request (a misspelt global, a field of
 * an unexpected type) must show in the log, not only in the replies nobody reads, yet not
 * flood it. Each stage (for its plugin's faults and its own timeouts) and each rule logs its
 * first fault at once and then at most one line a minute per worker, saying how many came in
 * between; every fault is counted in stats regardless. */
#ifndef VD_FAULT_LOG_H
#define VD_FAULT_LOG_H

#include "base/stats.h"
#include "policy/policy.h"

/* A fault of stage st (rule: the rule or plugin named in it). Offline runs, whose stages have
 * no figures, report faults in their results only. */
void vd_fault_log_stage(const vd_stage_t *st, const char *rule, const char *msg);

/* A fault of rule, whose figures in its stage are n, with where the rule is declared. */
void vd_fault_log_rule(vd_rule_stat_t *n, const vd_rule_t *rule, const char *msg);

#endif
