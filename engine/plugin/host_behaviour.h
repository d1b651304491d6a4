/* The anomaly models and behaviour profiles of the host API (1.4), kept apart from the request
 * functions. */
#ifndef VD_HOST_BEHAVIOUR_H
#define VD_HOST_BEHAVIOUR_H

#include <verdict/plugin.h>

/* api->anomaly: value scored in the series key, then learnt; answered through done. */
int vd__anomaly(vd_plugin_call_t *call, const char *key, size_t len, double value,
                const vd_anomaly_options_t *opts, vd_anomaly_done_t done, void *ud);

/* api->profile: how usual each value is for the entity, then the event added; answered
 * through done. */
int vd__profile(vd_plugin_call_t *call, const char *entity, size_t len,
                const vd_profile_value_t *values, size_t n, const vd_profile_options_t *opts,
                vd_profile_done_t done, void *ud);

#endif
