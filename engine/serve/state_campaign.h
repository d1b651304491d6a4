/* state_get and state_reset of a campaign (the admin socket): an operator looks at one, or
 * removes one that was poisoned (reports that should not count, a group that caught real
 * people), embedded or in Redis. No fallback, as for the other kinds: an operator must see
 * what the rules see. */
#ifndef VD_STATE_CAMPAIGN_H
#define VD_STATE_CAMPAIGN_H

#include "net/conn.h"
#include "proto/admin_params.h"
#include "state/campaign.h"

#include <stddef.h>
#include <stdint.h>

struct vd_server;

/* "text:<16 hex digits>" or "fields:<16 hex digits>": 0 with its kind and id, else -1. */
int vd_state_campaign_key(const char *key, size_t len, vd_campaign_kind_t *kind, uint64_t *id);

/* Answers state_get (m VD_STATE_GET) or state_reset of the campaign p names. */
void vd_state_campaign(struct vd_server *s, vd_conn_t *c, uint32_t msgid, vd_state_method_t m,
                       const vd_state_params_t *p);

#endif
