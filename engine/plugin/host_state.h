/* The state functions of the host API (1.2), kept apart from the request functions. */
#ifndef VD_HOST_STATE_H
#define VD_HOST_STATE_H

#include <verdict/plugin.h>

int vd__state_counter(vd_plugin_call_t *call, const char *key, size_t len, uint32_t n,
                      vd_state_done_t done, void *ud);
int vd__state_distinct(vd_plugin_call_t *call, const char *key, size_t len, const char *value,
                       size_t vlen, int64_t ttl_s, vd_state_done_t done, void *ud);
int vd__state_labeled(vd_plugin_call_t *call, const char *key, size_t len, vd_state_done_t done,
                      void *ud);
int vd__state_label(vd_plugin_call_t *call, const char *key, size_t len, int64_t ttl_s);

#endif
