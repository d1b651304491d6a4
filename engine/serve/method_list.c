/* The list is found among those the process holds (nothing is read from disk on a request):
 * by the path as a policy names it, relative to the policy directory, or absolute. */
#include "method_list.h"

#include "base/error.h"
#include "base/ipaddr.h"
#include "policy/policy.h"
#include "proto/admin_params.h"
#include "proto/mpbuf.h"
#include "server.h"
#include "state/list.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The path the list registry knows a list by: resolved as verdict.list resolves it. A file
 * gone since it loaded (its last version still serves) is looked up as written. Returns 0, or
 * -1 when the path is too long to be one. */
static int resolve(const vd_policy_t *p, const vd_list_check_params_t *lp, char *out) {
    char joined[PATH_MAX], dir[PATH_MAX];
    if (!realpath(p->src->dir, dir)) snprintf(dir, sizeof dir, "%s", p->src->dir);
    size_t at = lp->path[0] == '/' ? 0 : strlen(dir) + 1;
    if (at + lp->path_len >= sizeof joined) return -1;
    if (at) {
        memcpy(joined, dir, at - 1);
        joined[at - 1] = '/';
    }
    memcpy(joined + at, lp->path, lp->path_len);
    joined[at + lp->path_len] = '\0';
    if (!realpath(joined, out)) memcpy(out, joined, at + lp->path_len + 1);
    return 0;
}

typedef struct known {
    char text[1024];
    size_t len;
    const char *dir; /* the policy directory, resolved: shown as the policies name lists */
} known_t;

static void add_known(const vd_list_info_t *info, size_t i, size_t n, void *arg) {
    known_t *k = arg;
    size_t dl = strlen(k->dir);
    const char *shown = info->path;
    (void)n;
    if (strncmp(shown, k->dir, dl) == 0 && shown[dl] == '/') shown += dl + 1;
    if (k->len < sizeof k->text)
        k->len += (size_t)snprintf(k->text + k->len, sizeof k->text - k->len, "%s%s (%s)",
                                   i ? ", " : "", shown, vd_list_kind_name(info->kind));
}

/* Why no list was found, with the lists there are. */
static void not_found(vd_server_t *s, vd_conn_t *c, uint32_t msgid,
                      const vd_list_check_params_t *lp, int rc) {
    char dir[PATH_MAX];
    known_t k = {.dir = realpath(s->x->policy->src->dir, dir) ? dir : s->x->policy->src->dir};
    size_t n = vd_lists_each(add_known, &k);
    int len = lp->path_len > 256 ? 256 : (int)lp->path_len;
    if (rc == VD_EINVAL)
        vd_server_error(s, c, msgid, VD_RPC_BAD_REQUEST,
                        "'%.*s' is loaded as more than one kind: give the option kind (%s)", len,
                        lp->path, k.text);
    else
        vd_server_error(s, c, msgid, VD_RPC_BAD_REQUEST,
                        "'%.*s' is not a list the policies load (%s%s)", len, lp->path,
                        n ? "they load: " : "they load none", k.text);
}

static void pack_result(vd_conn_t *c, uint32_t msgid, const vd_list_ref_t *ref,
                        const vd_list_check_params_t *lp, const vd_list_hit_t *hit) {
    msgpack_packer *pk = &c->pk;
    vd_rpc_pack_result_head(pk, msgid);
    msgpack_pack_map(pk, 6);
    vd_pack_cstr(pk, "list");
    vd_pack_cstr(pk, vd_list_path(ref));
    vd_pack_cstr(pk, "kind");
    vd_pack_cstr(pk, vd_list_kind_name(vd_list_kind(ref)));
    vd_pack_cstr(pk, "value");
    vd_mp_str(&c->out, lp->value, lp->value_len);
    vd_pack_cstr(pk, "hit");
    hit ? msgpack_pack_true(pk) : msgpack_pack_false(pk);
    vd_pack_cstr(pk, "entry"); /* the most specific entry that matched, as listed */
    hit ? vd_mp_str(&c->out, hit->entry, hit->entry_len) : msgpack_pack_nil(pk);
    vd_pack_cstr(pk, "entry_value"); /* what follows it on its line ("" when nothing) */
    hit ? vd_mp_str(&c->out, hit->value, hit->value_len) : msgpack_pack_nil(pk);
}

void vd_method_list_check(vd_server_t *s, vd_conn_t *c, vd_inbound_t **in) {
    const vd_rpc_msg_t *m = &(*in)->msg;
    vd_list_check_params_t lp;
    const char *bad = vd_list_check_params_read(m->params, &lp);
    if (bad) {
        vd_server_error(s, c, m->msgid, VD_RPC_BAD_REQUEST, "%s", bad);
        return;
    }
    char path[PATH_MAX];
    vd_list_ref_t ref;
    int rc =
        resolve(s->x->policy, &lp, path) ? VD_ENOTFOUND : vd_list_open_loaded(path, lp.kind, &ref);
    if (rc) {
        not_found(s, c, m->msgid, &lp, rc);
        return;
    }
    vd_ip_t ip;
    vd_list_hit_t hit;
    if (vd_list_kind(&ref) == VD_LIST_IP && vd_ip_parse(lp.value, lp.value_len, &ip) != 0)
        vd_server_error(s, c, m->msgid, VD_RPC_BAD_REQUEST,
                        "'%.*s' is not an IP address, and %s is a list of addresses and networks",
                        lp.value_len > 64 ? 64 : (int)lp.value_len, lp.value, vd_list_path(&ref));
    else
        pack_result(c, m->msgid, &ref, &lp,
                    vd_list_find(&ref, lp.value, lp.value_len, &hit) ? &hit : NULL);
    vd_list_ref_close(&ref);
}
