/* list_check: whether a value is in a list file the policies loaded, and which entry matched
 * (docs/protocol.md). */
#ifndef VD_METHOD_LIST_H
#define VD_METHOD_LIST_H

#include "methods.h"

/* list_check [path, value(, options)] -> {list, kind, value, hit, entry, entry_value}. */
void vd_method_list_check(struct vd_server *s, vd_conn_t *c, vd_inbound_t **in);

#endif
