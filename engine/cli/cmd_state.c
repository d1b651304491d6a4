#include "cmd_state.h"

#include "daemon_call.h"
#include "proto/rpc.h"

#include <errno.h>
#include <getopt.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* list check's exit statuses: whether the value is listed, or that the question failed. */
enum { LIST_HIT = 0, LIST_MISS = 1, LIST_ERROR = 2 };

typedef struct cmd {
    vd_cmd_state_opts_t o;
    const char *ttl;  /* state set --ttl, or NULL */
    const char *kind; /* list check --kind, or NULL */
    int json;         /* list check --json */
} cmd_t;

void vd_cmd_state_usage(FILE *out) {
    fprintf(out,
            "usage: verdict state get KIND KEY\n"
            "       verdict state set KIND KEY VALUE [--ttl SECONDS]\n"
            "       verdict state reset KIND KEY\n"
            "       verdict list check LIST VALUE [--kind ip|domain|exact] [--json]\n"
            "KIND is counter, distinct or label, and KEY the key a rule gives verdict.counter,\n"
            "verdict.distinct or verdict.label (\"login:fail:acct:alice\"); or KIND campaign and\n"
            "KEY its kind and id as explain and the decision log show them (text:4c1f...), to\n"
            "read it or (reset) remove it. The VALUE to set is a counter's count in each window,\n"
            "a distinct count's number of values (--ttl: the seconds it lives, default 86400),\n"
            "a label's seconds. set and reset work on the admin socket only (verdictd\n"
            "--admin-socket PATH); get and list check on any.\n"
            "LIST is a list file as the policy names it (lists/blocked.txt); list check exits\n"
            "with 0 when VALUE is in it, 1 when it is not, 2 on an error.\n"
            "options:\n"
            "  --socket PATH     default $VERDICT_ADMIN_SOCKET, else $VERDICT_SOCKET, else\n"
            "                    ./verdict.sock\n"
            "  --compact         one-line JSON output\n"
            "  --timeout-ms MS   how long to wait for the reply (default 30000)\n");
}

/* Reads the options from anywhere in argv (they are moved before the arguments). Returns 0,
 * 1 after --help, or VD_CLI_EXIT_USAGE. */
static int parse_options(cmd_t *c, int argc, char **argv) {
    enum { SOCKET = 1000, COMPACT, TIMEOUT, TTL, KIND, JSON, HELP };
    static const struct option opts[] = {{"socket", required_argument, 0, SOCKET},
                                         {"compact", no_argument, 0, COMPACT},
                                         {"timeout-ms", required_argument, 0, TIMEOUT},
                                         {"ttl", required_argument, 0, TTL},
                                         {"kind", required_argument, 0, KIND},
                                         {"json", no_argument, 0, JSON},
                                         {"help", no_argument, 0, HELP},
                                         {0, 0, 0, 0}};
    int opt;
    optind = 0; /* a fresh scan: the global options were read with another argv */
    while ((opt = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        char *end = NULL;
        if (opt == SOCKET)
            c->o.socket = optarg;
        else if (opt == COMPACT)
            c->o.compact = 1;
        else if (opt == TIMEOUT)
            c->o.timeout_ms = (int)strtol(optarg, &end, 10);
        else if (opt == TTL)
            c->ttl = optarg;
        else if (opt == KIND)
            c->kind = optarg;
        else if (opt == JSON)
            c->json = 1;
        else if (opt == HELP || opt == 'h')
            return vd_cmd_state_usage(stdout), 1;
        else
            return vd_cmd_state_usage(stderr), VD_CLI_EXIT_USAGE;
        if (end && (*end || end == optarg)) {
            fprintf(stderr, "verdict: expected a number, got '%s'\n", optarg);
            return VD_CLI_EXIT_USAGE;
        }
    }
    return 0;
}

/* A whole number from 0 to UINT32_MAX, as the state methods take it. */
static int parse_u32(const char *what, const char *s, uint64_t *out) {
    char *end;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    if (!*s || *end || s[0] == '-' || errno || v > UINT32_MAX) {
        fprintf(stderr, "verdict: %s must be a whole number from 0 to 4294967295, got '%s'\n", what,
                s);
        return -1;
    }
    *out = v;
    return 0;
}

/* Packs the params of state_get/_set/_reset from KIND KEY [VALUE]. Returns 0 or -1. */
static int pack_state_params(const cmd_t *c, const char *sub, int n, char **args,
                             msgpack_packer *pk) {
    int set = strcmp(sub, "set") == 0;
    uint64_t value = 0, ttl = 0;
    if (n != (set ? 3 : 2)) {
        fprintf(stderr, "verdict: usage: verdict state %s KIND KEY%s\n", sub, set ? " VALUE" : "");
        return -1;
    }
    if ((set && parse_u32("VALUE", args[2], &value)) ||
        (c->ttl && parse_u32("--ttl", c->ttl, &ttl)))
        return -1;
    msgpack_pack_array(pk, (size_t)n + (c->ttl != NULL));
    vd_pack_cstr(pk, args[0]);
    vd_pack_cstr(pk, args[1]);
    if (set) msgpack_pack_uint64(pk, value);
    if (c->ttl) {
        msgpack_pack_map(pk, 1);
        vd_pack_u64(pk, "ttl", ttl);
    }
    return 0;
}

/* A change refused on the ordinary socket: say how to reach the admin one. */
static void hint_if_forbidden(const vd_client_reply_t *r, const char *socket) {
    char code[32], message[8];
    if (!r->error) return;
    vd_client_error_fields(r->error, code, sizeof code, message, sizeof message);
    if (strcmp(code, "forbidden") == 0)
        fprintf(stderr,
                "verdict: %s is not an admin socket: name verdictd's --admin-socket with "
                "--socket PATH, or set $VERDICT_ADMIN_SOCKET and leave --socket out\n",
                socket);
}

/* Whether a state map says nothing is stored: every window, count or ttl 0 or nil; a
 * campaign's, that it was not found. */
static int says_nothing(const msgpack_object *m) {
    static const char *const fields[] = {"minute", "hour", "day", "count", "ttl"};
    if (!m || m->type != MSGPACK_OBJECT_MAP) return 0;
    const msgpack_object *found = vd_rpc_map_get(m, "found", 5, 0);
    if (found) return found->type == MSGPACK_OBJECT_BOOLEAN && !found->via.boolean;
    for (size_t i = 0; i < sizeof fields / sizeof *fields; i++) {
        const msgpack_object *v = vd_rpc_map_get(m, fields[i], strlen(fields[i]), 0);
        if (v && v->type != MSGPACK_OBJECT_NIL &&
            !(v->type == MSGPACK_OBJECT_POSITIVE_INTEGER && v->via.u64 == 0))
            return 0;
    }
    return 1;
}

/* A key nothing is stored under is most often a mistyped one: a reset of it changes nothing
 * (exit status 1), a read of it says so. */
static int warn_if_nothing(const vd_client_reply_t *r, const char *sub, const char *key) {
    if (r->error || strcmp(sub, "set") == 0) return 0;
    int reset = strcmp(sub, "reset") == 0;
    const msgpack_object *m = reset && !vd_rpc_map_get(r->result, "found", 5, 0)
                                  ? vd_rpc_map_get(r->result, "old", 3, 0)
                                  : r->result;
    if (!says_nothing(m)) return 0;
    fprintf(stderr, "verdict: nothing is stored under '%s'%s (is it the key the rule builds?)\n",
            key, reset ? ": nothing changed" : "");
    return reset ? VD_CLI_EXIT_RPC : 0;
}

static int run_state(const cmd_t *c, int n, char **args) {
    static const char *const subs[][2] = {
        {"get", "state_get"}, {"set", "state_set"}, {"reset", "state_reset"}};
    const char *method = NULL;
    for (int i = 0; n > 0 && i < 3; i++)
        if (strcmp(args[0], subs[i][0]) == 0) method = subs[i][1];
    if (!method) {
        fprintf(stderr, "verdict: expected state get, set or reset\n");
        return VD_CLI_EXIT_USAGE;
    }
    if (c->ttl && strcmp(args[0], "set") != 0) {
        fprintf(stderr, "verdict: --ttl is for state set\n");
        return VD_CLI_EXIT_USAGE;
    }
    msgpack_sbuffer sb;
    msgpack_packer pk;
    msgpack_sbuffer_init(&sb);
    msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
    int rc = VD_CLI_EXIT_USAGE;
    vd_client_t *client;
    vd_client_reply_t r;
    if (pack_state_params(c, args[0], n - 1, args + 1, &pk) == 0 &&
        (rc = vd_cli_call(c->o.socket, c->o.timeout_ms, method, &sb, &client, &r)) == 0) {
        rc = vd_cli_print_reply(&r, c->o.compact);
        hint_if_forbidden(&r, c->o.socket);
        if (rc == 0 && n > 2) rc = warn_if_nothing(&r, args[0], args[2]);
        vd_client_close(client);
    }
    msgpack_sbuffer_destroy(&sb);
    return rc;
}

/* A string field of a result map, as "%.*s" arguments; "" when absent or not a string. */
static int field(const msgpack_object *map, const char *key, const char **s) {
    const msgpack_object *v = vd_rpc_map_get(map, key, strlen(key), 0);
    *s = v && v->type == MSGPACK_OBJECT_STR ? v->via.str.ptr : "";
    return v && v->type == MSGPACK_OBJECT_STR ? (int)v->via.str.size : 0;
}

/* LIST_HIT or LIST_MISS as list_check's result says, or LIST_ERROR when it does not. */
static int hit_of(const msgpack_object *res) {
    const msgpack_object *hit = vd_rpc_map_get(res, "hit", 3, 0);
    if (hit && hit->type == MSGPACK_OBJECT_BOOLEAN) return hit->via.boolean ? LIST_HIT : LIST_MISS;
    fprintf(stderr, "verdict: the reply does not say whether it is a hit\n");
    return LIST_ERROR;
}

/* "hit: VALUE matches ENTRY (ITS VALUE) in LIST" or "miss: VALUE is not in LIST". */
static int print_check(const msgpack_object *res) {
    const char *value, *list, *entry, *entry_value;
    int nv = field(res, "value", &value), nl = field(res, "list", &list);
    int ne = field(res, "entry", &entry), nev = field(res, "entry_value", &entry_value);
    int rc = hit_of(res);
    if (rc == LIST_ERROR) return rc;
    if (rc == LIST_MISS) {
        printf("miss: %.*s is not in %.*s\n", nv, value, nl, list);
        return LIST_MISS;
    }
    printf("hit: %.*s matches %.*s%s%.*s%s in %.*s\n", nv, value, ne, entry, nev ? " (" : "", nev,
           entry_value, nev ? ")" : "", nl, list);
    return LIST_HIT;
}

static int run_list(const cmd_t *c, int n, char **args) {
    if (n != 3 || strcmp(args[0], "check") != 0) {
        fprintf(stderr, "verdict: usage: verdict list check LIST VALUE\n");
        return LIST_ERROR;
    }
    msgpack_sbuffer sb;
    msgpack_packer pk;
    msgpack_sbuffer_init(&sb);
    msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
    msgpack_pack_array(&pk, 2 + (c->kind != NULL));
    vd_pack_cstr(&pk, args[1]);
    vd_pack_cstr(&pk, args[2]);
    if (c->kind) {
        msgpack_pack_map(&pk, 1);
        vd_pack_cstr(&pk, "kind");
        vd_pack_cstr(&pk, c->kind);
    }
    vd_client_t *client;
    vd_client_reply_t r;
    int rc = LIST_ERROR;
    if (vd_cli_call(c->o.socket, c->o.timeout_ms, "list_check", &sb, &client, &r) == 0) {
        if (r.error)
            vd_cli_print_reply(&r, c->o.compact);
        else if (!c->json)
            rc = print_check(r.result);
        else if (vd_cli_print_reply(&r, c->o.compact) == 0)
            rc = hit_of(r.result);
        vd_client_close(client);
    }
    msgpack_sbuffer_destroy(&sb);
    return rc;
}

int vd_cmd_state(int argc, char **argv, const vd_cmd_state_opts_t *given) {
    cmd_t c = {.o = *given};
    int list = strcmp(argv[0], "list") == 0;
    int rc = parse_options(&c, argc, argv);
    if (rc) return rc == 1 ? 0 : list ? LIST_ERROR : rc;
    if (!c.o.socket) c.o.socket = getenv("VERDICT_ADMIN_SOCKET");
    if (!c.o.socket || !*c.o.socket) c.o.socket = c.o.fallback;
    if (!list && (c.kind || c.json)) {
        fprintf(stderr, "verdict: --kind and --json are for list check\n");
        return VD_CLI_EXIT_USAGE;
    }
    if (list && c.ttl) {
        fprintf(stderr, "verdict: --ttl is for state set\n");
        return LIST_ERROR;
    }
    return list ? run_list(&c, argc - optind, argv + optind)
                : run_state(&c, argc - optind, argv + optind);
}
