/* The policy part of the decision log's manifest lines (dlog/dlog.h): what decided, precisely
 * enough to say it again: the policy version, every policy file with its hash, and every plugin
 * stage with its plugin's version and what it reports about its model or database. */
#ifndef VD_LOG_MANIFEST_H
#define VD_LOG_MANIFEST_H

#include "dlog/dlog.h"
#include "policy/policy.h"
#include "policy/source.h"

/* Gives the log the manifest of src compiled as p (any copy). Returns 0 or VD_ENOMEM. */
int vd_log_manifest(vd_dlog_t *log, const vd_policy_src_t *src, const vd_policy_t *p);

#endif
