/* report: a person's verdict (spam or not, abusive or legitimate) on a decision, by its id, or
 * on an event, added to the campaigns the decision joined or the event belongs to
 * (docs/protocol.md, docs/campaigns.md "Reports"). */
#ifndef VD_METHOD_REPORT_H
#define VD_METHOD_REPORT_H

#include "decision/decision.h"
#include "methods.h"
#include "report_outcome.h"

/* report [pipeline, subject, label(, options)] -> {outcome, label, campaigns}. */
void vd_method_report(struct vd_server *s, vd_conn_t *c, vd_inbound_t **in);

/* After a decision of pipeline: remembers the campaigns it joined under its id, for reports on
 * it. */
void vd_report_remember(struct vd_server *s, const char *id, const char *pipeline,
                        const vd_decision_t *d);

#endif
