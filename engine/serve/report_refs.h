/* Which campaigns a decision joined, kept by its id in the embedded state store, so that a
 * report naming the decision reaches them (docs/campaigns.md, "Reports"). The entries share
 * the store's memory cap and are evicted with its other entries, least recently used first. */
#ifndef VD_REPORT_REFS_H
#define VD_REPORT_REFS_H

#include "decision/decision.h"
#include "state/store.h"

#include <stddef.h>

/* Keeps refs[0..n) under the decision id, with the pipeline that made it. Returns 0 or
 * VD_ENOMEM. */
int vd_report_refs_keep(vd_store_t *s, const char *id, size_t len, const char *pipeline,
                        const vd_campaign_ref_t *refs, int n);

/* The campaigns kept under the decision id into refs (VD_DECISION_CAMPAIGNS of room): their
 * number, -1 when the store has nothing under it (an unknown id, or evicted), or -2 when
 * another pipeline than pipeline[0..plen) made the decision. */
int vd_report_refs_find(vd_store_t *s, const char *id, size_t len, const char *pipeline,
                        size_t plen, vd_campaign_ref_t refs[VD_DECISION_CAMPAIGNS]);

#endif
