/* The key of a lockstep group: a set of categorical feature values, named. */
#ifndef VD_CAMPAIGN_KEY_H
#define VD_CAMPAIGN_KEY_H

#include <stddef.h>
#include <stdint.h>

#define VD_CAMPAIGN_MAX_FIELDS 16

typedef struct vd_campaign_kv {
    const char *name, *value; /* borrowed */
    size_t nlen, vlen;
} vd_campaign_kv_t;

/* The key of the n fields, whatever their order (f is sorted by name in place): equal sets of
 * names and values, equal keys. Returns 0, or VD_EINVAL for no field, more than
 * VD_CAMPAIGN_MAX_FIELDS or a name given twice. */
int vd_campaign_fields_key(vd_campaign_kv_t *f, size_t n, uint64_t *key);

#endif
