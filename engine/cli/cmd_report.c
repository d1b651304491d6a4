#include "cmd_report.h"

#include "daemon_call.h"
#include "event.h"
#include "proto/rpc.h"

#include <getopt.h>
#include <stdlib.h>
#include <string.h>

typedef struct cmd {
    vd_cmd_report_opts_t o;
    const char *reporter;
    double weight; /* 0: not given */
    int json;
} cmd_t;

void vd_cmd_report_usage(FILE *out) {
    fprintf(out,
            "usage: verdict report PIPELINE SUBJECT bad|good [--reporter NAME] [--weight W]\n"
            "SUBJECT is a decision's id (the reply's \"id\") or an event as JSON ('{...}', or -\n"
            "to read it from stdin). The report goes to the campaigns the decision joined, or\n"
            "that the event belongs to (docs/campaigns.md). bad: spam, abusive; good: not\n"
            "spam, legitimate. Exits with 0 when the report was taken, 1 when it was not (an\n"
            "unknown decision, a reporter past verdictd's --report-limit).\n"
            "options:\n"
            "  --reporter NAME   who reports (distinct reporters count; default: anonymous)\n"
            "  --weight W        the report's weight, above 0 and at most 100 (default 1)\n"
            "  --json            the reply as JSON (--compact: on one line)\n"
            "  --socket PATH     default $VERDICT_SOCKET, else ./verdict.sock\n"
            "  --timeout-ms MS   how long to wait for the reply (default 30000)\n");
}

static int parse_options(cmd_t *c, int argc, char **argv) {
    enum { SOCKET = 1000, COMPACT, TIMEOUT, REPORTER, WEIGHT, JSON, HELP };
    static const struct option opts[] = {{"socket", required_argument, 0, SOCKET},
                                         {"compact", no_argument, 0, COMPACT},
                                         {"timeout-ms", required_argument, 0, TIMEOUT},
                                         {"reporter", required_argument, 0, REPORTER},
                                         {"weight", required_argument, 0, WEIGHT},
                                         {"json", no_argument, 0, JSON},
                                         {"help", no_argument, 0, HELP},
                                         {0, 0, 0, 0}};
    int opt;
    optind = 0; /* a fresh scan: the global options were read with another argv */
    while ((opt = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        char *end = NULL;
        if (opt == SOCKET) {
            c->o.socket = optarg;
        } else if (opt == COMPACT) {
            c->o.compact = c->json = 1;
        } else if (opt == TIMEOUT) {
            c->o.timeout_ms = (int)strtol(optarg, &end, 10);
        } else if (opt == REPORTER) {
            c->reporter = optarg;
        } else if (opt == WEIGHT) {
            c->weight = strtod(optarg, &end);
            if (!*end && !(c->weight > 0 && c->weight <= 100)) {
                fprintf(stderr, "verdict: --weight must be above 0 and at most 100\n");
                return VD_CLI_EXIT_USAGE;
            }
        } else if (opt == JSON) {
            c->json = 1;
        } else if (opt == HELP || opt == 'h') {
            return vd_cmd_report_usage(stdout), 1;
        } else {
            return vd_cmd_report_usage(stderr), VD_CLI_EXIT_USAGE;
        }
        if (end && (*end || end == optarg)) {
            fprintf(stderr, "verdict: expected a number, got '%s'\n", optarg);
            return VD_CLI_EXIT_USAGE;
        }
    }
    return 0;
}

/* Packs [pipeline, subject, label(, options)]. Returns 0, or -1 after saying why. */
static int pack_params(const cmd_t *c, char **args, msgpack_sbuffer *sb) {
    msgpack_packer pk;
    msgpack_packer_init(&pk, sb, msgpack_sbuffer_write);
    int nopts = (c->reporter != NULL) + (c->weight > 0);
    msgpack_pack_array(&pk, nopts ? 4 : 3);
    vd_pack_cstr(&pk, args[0]);
    const char *subject = args[1];
    if (subject[0] == '{' || strcmp(subject, "-") == 0) {
        size_t len = strlen(subject);
        int from_stdin = strcmp(subject, "-") == 0;
        char *text = from_stdin ? vd_cli_read_stdin(&len) : NULL, err[512];
        if (from_stdin && !text) {
            fprintf(stderr, "verdict: out of memory reading the event\n");
            return -1;
        }
        int rc = vd_cli_event_pack(&pk, text ? text : subject, len, err, sizeof err);
        free(text);
        if (rc) {
            fprintf(stderr, "verdict: %s\n", err);
            return -1;
        }
    } else {
        vd_pack_cstr(&pk, subject);
    }
    vd_pack_cstr(&pk, args[2]);
    if (!nopts) return 0;
    msgpack_pack_map(&pk, (size_t)nopts);
    if (c->reporter) {
        vd_pack_cstr(&pk, "reporter");
        vd_pack_cstr(&pk, c->reporter);
    }
    if (c->weight > 0) {
        vd_pack_cstr(&pk, "weight");
        msgpack_pack_double(&pk, c->weight);
    }
    return 0;
}

static double number(const msgpack_object *m, const char *key) {
    const msgpack_object *v = vd_rpc_map_get(m, key, strlen(key), 0);
    if (!v) return 0;
    if (v->type == MSGPACK_OBJECT_FLOAT32 || v->type == MSGPACK_OBJECT_FLOAT64) return v->via.f64;
    if (v->type == MSGPACK_OBJECT_POSITIVE_INTEGER) return (double)v->via.u64;
    return 0;
}

static int str_is(const msgpack_object *v, const char *s) {
    return v && v->type == MSGPACK_OBJECT_STR && v->via.str.size == strlen(s) &&
           memcmp(v->via.str.ptr, s, v->via.str.size) == 0;
}

/* A report that Redis did not answer in time says so: what it found may be only this
 * daemon's. */
static void note_fallback(const msgpack_object *res) {
    const msgpack_object *why = vd_rpc_map_get(res, "fell_back", 9, 0);
    if (why && why->type == MSGPACK_OBJECT_STR)
        fprintf(stderr, "verdict: note: %.*s: this daemon's own campaigns answered instead\n",
                (int)why->via.str.size, why->via.str.ptr);
}

/* The reply for people: the outcome, then a line per campaign reached. */
static int print_summary(const cmd_t *c, const char *subject, const msgpack_object *res) {
    const msgpack_object *outcome = vd_rpc_map_get(res, "outcome", 7, 0);
    const msgpack_object *camps = vd_rpc_map_get(res, "campaigns", 9, 0);
    if (!outcome || outcome->type != MSGPACK_OBJECT_STR) {
        fprintf(stderr, "verdict: the reply does not say what became of the report\n");
        return VD_CLI_EXIT_RPC;
    }
    int n = camps && camps->type == MSGPACK_OBJECT_ARRAY ? (int)camps->via.array.size : 0;
    printf("%.*s", (int)outcome->via.str.size, outcome->via.str.ptr);
    if (str_is(outcome, "unknown_decision")) {
        printf(": no decision '%s' that joined a campaign is remembered by this daemon (it "
               "joined none, is too old, or a daemon that shares no Redis with this one made "
               "it)\n",
               subject);
        fflush(stdout);
        note_fallback(res);
        return VD_CLI_EXIT_RPC;
    }
    if (str_is(outcome, "limited")) {
        printf(": %s made more reports this hour than verdictd's --report-limit\n",
               c->reporter ? c->reporter : "the anonymous reporter");
        return VD_CLI_EXIT_RPC;
    }
    if (n)
        printf(": reached %d campaign%s\n", n, n == 1 ? "" : "s");
    else
        printf(": the subject is in no campaign (now)\n");
    for (int i = 0; i < n; i++) {
        const msgpack_object *k = &camps->via.array.ptr[i];
        const msgpack_object *kind = vd_rpc_map_get(k, "kind", 4, 0);
        const msgpack_object *id = vd_rpc_map_get(k, "id", 2, 0);
        const msgpack_object *found = vd_rpc_map_get(k, "found", 5, 0);
        int kl = kind && kind->type == MSGPACK_OBJECT_STR ? (int)kind->via.str.size : 0;
        int il = id && id->type == MSGPACK_OBJECT_STR ? (int)id->via.str.size : 0;
        printf("  %.*s %.*s: ", kl, kl ? kind->via.str.ptr : "", il, il ? id->via.str.ptr : "");
        if (!found || found->type != MSGPACK_OBJECT_BOOLEAN || !found->via.boolean) {
            printf("gone (expired or evicted)\n");
            continue;
        }
        double reporters = number(k, "reporters");
        printf("%.0f items, bad %g, good %g, %.0f reporter%s\n", number(k, "size"),
               number(k, "bad"), number(k, "good"), reporters, reporters == 1 ? "" : "s");
    }
    fflush(stdout);
    note_fallback(res);
    return 0;
}

int vd_cmd_report(int argc, char **argv, const vd_cmd_report_opts_t *given) {
    cmd_t c = {.o = *given};
    int rc = parse_options(&c, argc, argv);
    if (rc) return rc == 1 ? 0 : rc;
    if (argc - optind != 3) {
        fprintf(stderr, "verdict: usage: verdict report PIPELINE SUBJECT bad|good\n");
        return VD_CLI_EXIT_USAGE;
    }
    char **args = argv + optind; /* getopt moved the options before them */
    if (strcmp(args[2], "bad") != 0 && strcmp(args[2], "good") != 0) {
        fprintf(stderr,
                "verdict: the label must be bad (spam, abusive) or good (not spam, "
                "legitimate), not '%s'\n",
                args[2]);
        return VD_CLI_EXIT_USAGE;
    }
    msgpack_sbuffer sb;
    msgpack_sbuffer_init(&sb);
    vd_client_t *client;
    vd_client_reply_t r;
    rc = VD_CLI_EXIT_USAGE;
    if (pack_params(&c, args, &sb) == 0 &&
        (rc = vd_cli_call(c.o.socket, c.o.timeout_ms, "report", &sb, &client, &r)) == 0) {
        if (r.error || c.json) {
            rc = vd_cli_print_reply(&r, c.o.compact);
            const msgpack_object *o = r.error ? NULL : vd_rpc_map_get(r.result, "outcome", 7, 0);
            if (rc == 0 && (str_is(o, "unknown_decision") || str_is(o, "limited")))
                rc = VD_CLI_EXIT_RPC; /* not taken, as without --json */
        } else {
            rc = print_summary(&c, args[1], r.result);
        }
        vd_client_close(client);
    }
    msgpack_sbuffer_destroy(&sb);
    return rc;
}
