/* Lists loaded from files: IP/CIDR sets (IPv4 and IPv6, longest prefix wins), domain sets
 * (an entry matches itself and every subdomain) and exact string sets. Each line holds an entry
 * and an optional value: "203.0.113.0/24 hosting", "mailinator.com", "# comments".
 *
 * A list is loaded once per process however many workers and policies name it, and is shared
 * read-only. When its file changes, a new version is built off the workers' threads and
 * published; each reader takes the new version at its next lookup (vd_list_ref_refresh), and an
 * old version is freed when its last reader has moved on. Nothing on the lookup path locks. */
#ifndef VD_LIST_H
#define VD_LIST_H

#include "base/ipaddr.h"

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

typedef enum { VD_LIST_IP, VD_LIST_DOMAIN, VD_LIST_EXACT } vd_list_kind_t;

typedef struct vd_list vd_list_t;           /* one file, shared, lives while referenced */
typedef struct vd_list_data vd_list_data_t; /* one immutable version of its entries */

/* What a lookup found: the matching entry as written in the file (normalised) and its value
 * ("" when the line has none). Both point into the version the lookup used. */
typedef struct vd_list_hit {
    const char *entry, *value;
    size_t entry_len, value_len;
} vd_list_hit_t;

/* A reader's handle: the list and the version it currently reads. */
typedef struct vd_list_ref {
    vd_list_t *list;
    vd_list_data_t *data;
    uint64_t version; /* of data; compared with the list's to notice a newer one */
} vd_list_ref_t;

/* Kind from its policy name ("ip", "domain", "exact"); -1 when unknown. */
int vd_list_kind_parse(const char *name);
const char *vd_list_kind_name(vd_list_kind_t kind);

/* Opens the list of file path (absolute) as kind: loaded now unless this process already holds
 * it with the same kind (then a file changed since is loaded now; when that fails the version
 * held stays, as in vd_lists_check, and the open succeeds). skip_bad: lines that cannot be
 * parsed are logged and skipped instead of failing the load. On failure returns
 * VD_EINVAL/VD_ENOMEM/VD_EIO with "file:line: why" in err. Thread-safe (policies compile on
 * several threads at once). */
int vd_list_open(const char *path, vd_list_kind_t kind, int skip_bad, vd_list_ref_t *out, char *err,
                 size_t errlen);

/* A handle on the list of file path (absolute, links resolved) that this process holds
 * already, for a lookup outside the policies (the list_check method): of kind, or of any kind
 * when kind < 0. Loads nothing. Returns 0, VD_ENOTFOUND (not open, or not as kind) or
 * VD_EINVAL (kind < 0 and the file is open as more than one kind). */
int vd_list_open_loaded(const char *path, int kind, vd_list_ref_t *out);

/* Drops the reader's handle (any thread). */
void vd_list_ref_close(vd_list_ref_t *ref);

/* Moves the reader to the newest version when there is one: one relaxed atomic load when
 * there is not. */
static inline void vd_list_ref_refresh(vd_list_ref_t *ref);

/* Lookups on the reader's current version; 1 on a match (with *hit filled unless hit is NULL),
 * else 0. A domain
 * lookup matches the longest listed suffix, case-insensitively; an IP lookup the longest
 * prefix. */
int vd_list_find(vd_list_ref_t *ref, const char *s, size_t len, vd_list_hit_t *hit);
int vd_list_find_ip(vd_list_ref_t *ref, const vd_ip_t *ip, vd_list_hit_t *hit);

/* Entries in the reader's version. */
size_t vd_list_size(const vd_list_ref_t *ref);

/* The list's file (absolute) and kind. */
const char *vd_list_path(const vd_list_ref_t *ref);
vd_list_kind_t vd_list_kind(const vd_list_ref_t *ref);

/* Looks at every open list's file and rebuilds those that changed and have settled (same size
 * and time at two looks in a row). Builds run in the calling thread; meant for a pool thread
 * started by a timer of the main loop. A file that fails to load keeps its old version: the
 * error is logged and counted once, and that state of the file is not read again until it
 * changes. */
void vd_lists_check(void);

typedef struct vd_list_info {
    const char *path;
    vd_list_kind_t kind;
    size_t entries, bytes;
    uint64_t version, reloads, errors, skipped;
    double load_seconds;
    uint64_t hash;     /* XXH3-64 of the file's bytes in this version */
    const char *error; /* why the file's newer state was refused ("": it was not) */
} vd_list_info_t;

/* A number that changes whenever any open list takes a new version (any thread). */
uint64_t vd_lists_generation(void);

/* Calls fn for every open list, i from 0 to n - 1 (under the registry lock: fn must not open or
 * close lists). Returns n. */
size_t vd_lists_each(void (*fn)(const vd_list_info_t *info, size_t i, size_t n, void *arg),
                     void *arg);

/* ---- inline part ---- */
struct vd_list_head {
    _Atomic uint64_t version;
};
void vd__list_ref_update(vd_list_ref_t *ref);

static inline void vd_list_ref_refresh(vd_list_ref_t *ref) {
    const struct vd_list_head *h = (const struct vd_list_head *)ref->list;
    if (atomic_load_explicit(&h->version, memory_order_relaxed) != ref->version)
        vd__list_ref_update(ref);
}

#endif
