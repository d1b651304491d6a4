#include "change_log.h"

#include "base/log.h"

#include <stdio.h>

/* A key as the log shows it: printable ASCII as is, other bytes (and the quote and backslash)
 * as \xNN, so that a key cannot forge or break a log line. */
static const char *printable(const char *s, size_t n, char *out, size_t cap) {
    size_t o = 0;
    for (size_t i = 0; i < n && o + 5 < cap; i++) {
        unsigned char ch = (unsigned char)s[i];
        if (ch >= 0x20 && ch < 0x7f && ch != '"' && ch != '\\')
            out[o++] = (char)ch;
        else
            o += (size_t)snprintf(out + o, cap - o, "\\x%02x", ch);
    }
    out[o] = '\0';
    return out;
}

/* A label's seconds left, or "unset". */
static const char *ttl_text(int64_t v, char *out, size_t cap) {
    if (v < 0)
        snprintf(out, cap, "unset");
    else
        snprintf(out, cap, "%lld s", (long long)v);
    return out;
}

/* "minute 6 -> 0, hour 6 -> 0, day 6 -> 0", "count 12 -> 0" or "ttl 3540 s -> unset". */
static void change_text(vd_key_kind_t kind, const vd_state_op_t *op, char *out, size_t cap) {
    const int64_t *a = op->old, *b = op->result;
    char x[32], y[32];
    if (kind == VD_KEY_COUNTER)
        snprintf(out, cap, "minute %lld -> %lld, hour %lld -> %lld, day %lld -> %lld",
                 (long long)a[0], (long long)b[0], (long long)a[1], (long long)b[1],
                 (long long)a[2], (long long)b[2]);
    else if (kind == VD_KEY_DISTINCT)
        snprintf(out, cap, "count %lld -> %lld", (long long)a[0], (long long)b[0]);
    else
        snprintf(out, cap, "ttl %s -> %s", ttl_text(a[0], x, sizeof x),
                 ttl_text(b[0], y, sizeof y));
}

void vd_change_log(vd_serve_stats_t *stats, const vd_peer_t *peer, vd_state_method_t m,
                   vd_key_kind_t kind, const vd_state_op_t *op) {
    char what[160];
    change_text(kind, op, what, sizeof what);
    vd_change_log_text(stats, peer, m, kind, op->key, op->klen, what);
}

void vd_change_log_text(vd_serve_stats_t *stats, const vd_peer_t *peer, vd_state_method_t m,
                        vd_key_kind_t kind, const char *k, size_t klen, const char *what) {
    char key[4 * 1024 + 8], who[96];
    const char *method = vd_change_method_names[m - VD_STATE_SET];
    vd_counter_add(&stats->changes[m - VD_STATE_SET][kind], 1);
    if (peer->known)
        snprintf(who, sizeof who, "uid %lu (gid %lu, pid %ld)", (unsigned long)peer->uid,
                 (unsigned long)peer->gid, (long)peer->pid);
    else
        snprintf(who, sizeof who, "an unknown peer");
    vd_log(VD_LOG_INFO, "admin change by %s: %s %s \"%s\": %s", who, method, vd_key_kind_name(kind),
           printable(k, klen, key, sizeof key), what);
}
