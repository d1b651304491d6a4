/* What became of a report (the report method), as its reply, its record and the stats say. */
#ifndef VD_REPORT_OUTCOME_H
#define VD_REPORT_OUTCOME_H

typedef enum {
    VD_REPORT_APPLIED,          /* it reached at least one campaign */
    VD_REPORT_NO_CAMPAIGN,      /* the decision or event belongs to no campaign (now) */
    VD_REPORT_UNKNOWN_DECISION, /* no decision of that id is remembered here */
    VD_REPORT_LIMITED,          /* the reporter is past --report-limit this hour */
    VD_REPORT_OUTCOMES
} vd_report_outcome_t;

/* "applied", "no_campaign", "unknown_decision", "limited". */
extern const char *const vd_report_outcome_names[VD_REPORT_OUTCOMES];

#endif
