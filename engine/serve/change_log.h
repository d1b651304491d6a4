/* The record of each change made through the admin socket: a line in the log at info level
 * that names who made it (the peer's uid, gid and pid) and what it changed (the method, the
 * kind and key, the values before and after), and its count, by method and kind, in stats and
 * Prometheus. */
#ifndef VD_CHANGE_LOG_H
#define VD_CHANGE_LOG_H

#include "net/conn.h"
#include "proto/admin_params.h"
#include "snapshot.h"
#include "state/state_op.h"

/* Logs and counts the change op made (its old and new values) for peer, by method m. */
void vd_change_log(vd_serve_stats_t *stats, const vd_peer_t *peer, vd_state_method_t m,
                   vd_key_kind_t kind, const vd_state_op_t *op);

/* The same for a change said in words (what: "removed: 37 items, bad 3 good 0"). */
void vd_change_log_text(vd_serve_stats_t *stats, const vd_peer_t *peer, vd_state_method_t m,
                        vd_key_kind_t kind, const char *key, size_t klen, const char *what);

#endif
