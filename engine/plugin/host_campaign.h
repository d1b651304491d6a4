/* The campaign functions of the host API (1.3), kept apart from the request functions. */
#ifndef VD_HOST_CAMPAIGN_H
#define VD_HOST_CAMPAIGN_H

#include <verdict/plugin.h>

/* api->campaign_text: the text's near-duplicate campaign, answered through done. */
int vd__campaign_text(vd_plugin_call_t *call, const char *text, size_t len,
                      const vd_campaign_options_t *opts, vd_campaign_done_t done, void *ud);

/* api->campaign_fields: the lockstep group of the field values, answered through done. */
int vd__campaign_fields(vd_plugin_call_t *call, const vd_campaign_field_t *fields, size_t n,
                        const vd_campaign_options_t *opts, vd_campaign_done_t done, void *ud);

#endif
