/* verdict: the command-line client of verdictd (JSON in, JSON out), and the offline commands
 * (cmd_*.c). */
#include "cmd_log.h"
#include "cmd_replay.h"
#include "cmd_report.h"
#include "cmd_state.h"
#include "cmd_test.h"
#include "daemon_call.h"
#include "event.h"
#include "explain_render.h"
#include "proto/json_msgpack.h"
#include "proto/rpc.h"
#include "reply.h"
#include "verdict/client.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum {
    EXIT_RPC = VD_CLI_EXIT_RPC,
    EXIT_USAGE = VD_CLI_EXIT_USAGE,
    EXIT_CONNECT = VD_CLI_EXIT_CONNECT
};

typedef struct cli {
    const char *socket;
    int compact, json, timeout_ms;
    vd_cli_decide_opts_t decide;
} cli_t;

static void usage(FILE *out) {
    fprintf(out,
            "usage: verdict [--socket PATH] COMMAND [ARGS]\n"
            "commands:\n"
            "  decide PIPELINE ['JSON-EVENT']   decide for an event (read from stdin if omitted)\n"
            "      --explain                    explain it: every stage and rule, what each read,\n"
            "                                   and the arithmetic that chose the action\n"
            "      --json                       with --explain: the reply as JSON, not a table\n"
            "                                   (--compact too)\n"
            "      --deadline-ms MS             fail with 'timeout' past this deadline\n"
            "  ping                             check that verdictd answers\n"
            "  pipelines                        list the loaded pipelines and their stages\n"
            "  stats                            counters and latencies\n"
            "  reload                           load the policies again\n"
            "  state get|set|reset KIND KEY ... a counter, distinct count or label by key\n"
            "                                   (verdict state --help)\n"
            "  list check LIST VALUE            is VALUE in a list file the policies load?\n"
            "  report PIPELINE SUBJECT bad|good a person's verdict on a decision (its id) or an\n"
            "                                   event, for its campaigns (verdict report --help)\n"
            "  log [OPTIONS] FILE...            read decision logs (offline; see below)\n"
            "  replay --policies DIR FILE...    a policy over recorded decisions (offline;\n"
            "                                   verdict replay --help)\n"
            "  test [DIR]                       the policy tests beside the policies (offline;\n"
            "                                   verdict test --help)\n"
            "options of the daemon's commands (before or after the command's name):\n"
            "  --socket PATH     default $VERDICT_SOCKET, else ./verdict.sock\n"
            "  --compact         one-line JSON output\n"
            "  --timeout-ms MS   how long to wait for the reply (default 30000)\n"
            "\n");
    vd_cmd_log_usage(out);
}

/* decide --explain without --json: the explanation for people. Returns 0, or -1 when the
 * reply cannot be shown that way (it is then printed as JSON). */
static int print_explained(const vd_client_reply_t *r) {
    if (r->error) return -1;
    json_t *j = vd_msgpack_to_json(r->result);
    int rc = j ? vd_cli_explain_render(stdout, j) : -1;
    json_decref(j);
    return rc;
}

static int call(const cli_t *o, const char *method, msgpack_sbuffer *params) {
    vd_client_t *c;
    vd_client_reply_t r;
    int rc = vd_cli_call(o->socket, o->timeout_ms, method, params, &c, &r);
    if (rc) return rc;
    if (o->decide.explain && !o->json && !o->compact && print_explained(&r) == 0)
        rc = 0;
    else
        rc = vd_cli_print_reply(&r, o->compact);
    vd_client_close(c);
    return rc;
}

/* decide PIPELINE with the event text given, or read from stdin when NULL. */
static int decide(const cli_t *o, const char *pipeline, const char *arg, msgpack_sbuffer *sb) {
    size_t len = arg ? strlen(arg) : 0;
    char *text = arg ? NULL : vd_cli_read_stdin(&len), err[512];
    int rc = EXIT_USAGE;
    if (!arg && !text)
        fprintf(stderr, "verdict: out of memory reading the event\n");
    else if (vd_cli_decide_params(pipeline, arg ? arg : text, len, &o->decide, sb, err,
                                  sizeof err) != 0)
        fprintf(stderr, "verdict: %s\n", err);
    else
        rc = call(o, "decide", sb);
    free(text);
    return rc;
}

/* After a reload: a list file that failed to load kept its last good version; the reload
 * itself succeeded, so this is said on stderr, once per such list (from stats). */
static void warn_stale_lists(const cli_t *o) {
    vd_client_t *c;
    vd_client_reply_t r;
    msgpack_sbuffer none = {.size = 1, .data = "\x90"}; /* params [] */
    if (vd_cli_call(o->socket, o->timeout_ms, "stats", &none, &c, &r) != 0) return;
    const msgpack_object *lists = r.error ? NULL : vd_rpc_map_get(r.result, "lists", 5, 0);
    for (uint32_t i = 0; lists && lists->type == MSGPACK_OBJECT_ARRAY && i < lists->via.array.size;
         i++) {
        const msgpack_object *l = &lists->via.array.ptr[i];
        const msgpack_object *err = vd_rpc_map_get(l, "error", 5, 0);
        const msgpack_object *path = vd_rpc_map_get(l, "path", 4, 0);
        if (!err || err->type != MSGPACK_OBJECT_STR || !err->via.str.size || !path ||
            path->type != MSGPACK_OBJECT_STR)
            continue;
        fprintf(stderr, "verdict: warning: %.*s keeps its last good version: %.*s\n",
                (int)path->via.str.size, path->via.str.ptr, (int)err->via.str.size,
                err->via.str.ptr);
    }
    vd_client_close(c);
}

static int run_command(const cli_t *o, int argc, char **argv) {
    const char *cmd = argv[0];
    msgpack_sbuffer sb;
    msgpack_sbuffer_init(&sb);
    int rc;
    if (strcmp(cmd, "decide") == 0) {
        if (argc < 2 || argc > 3) {
            fprintf(stderr, "verdict: usage: verdict decide PIPELINE ['JSON-EVENT']\n");
            rc = EXIT_USAGE;
        } else {
            rc = decide(o, argv[1], argc == 3 ? argv[2] : NULL, &sb);
        }
    } else if (strcmp(cmd, "ping") == 0 || strcmp(cmd, "pipelines") == 0 ||
               strcmp(cmd, "stats") == 0 || strcmp(cmd, "reload") == 0) {
        if (argc != 1) {
            fprintf(stderr, "verdict: %s takes no arguments\n", cmd);
            rc = EXIT_USAGE;
        } else {
            msgpack_sbuffer_write(&sb, "\x90", 1); /* params [] */
            rc = call(o, cmd, &sb);
            if (rc == 0 && strcmp(cmd, "reload") == 0) warn_stale_lists(o);
        }
    } else {
        fprintf(stderr, "verdict: unknown command '%s'\n", cmd);
        usage(stderr);
        rc = EXIT_USAGE;
    }
    msgpack_sbuffer_destroy(&sb);
    return rc;
}

/* Reads the options of the daemon's commands from argv. With "+" first in optstring it stops
 * at the first argument that is not an option (the command's name: what follows is the
 * command's), else it takes options from anywhere and leaves the rest at argv[optind..].
 * Returns 0, 1 after --help, or EXIT_USAGE. */
static int parse_options(cli_t *o, int argc, char **argv, const char *optstring) {
    enum {
        OPT_SOCKET = 1000,
        OPT_EXPLAIN,
        OPT_JSON,
        OPT_COMPACT,
        OPT_DEADLINE,
        OPT_TIMEOUT,
        OPT_HELP
    };
    static const struct option opts[] = {{"socket", required_argument, 0, OPT_SOCKET},
                                         {"explain", no_argument, 0, OPT_EXPLAIN},
                                         {"json", no_argument, 0, OPT_JSON},
                                         {"compact", no_argument, 0, OPT_COMPACT},
                                         {"deadline-ms", required_argument, 0, OPT_DEADLINE},
                                         {"timeout-ms", required_argument, 0, OPT_TIMEOUT},
                                         {"help", no_argument, 0, OPT_HELP},
                                         {0, 0, 0, 0}};
    int c;
    while ((c = getopt_long(argc, argv, optstring, opts, NULL)) != -1) {
        char *end = NULL;
        switch (c) {
        case OPT_SOCKET:
            o->socket = optarg;
            break;
        case OPT_EXPLAIN:
            o->decide.explain = 1;
            break;
        case OPT_JSON:
            o->json = 1;
            break;
        case OPT_COMPACT:
            o->compact = 1;
            break;
        case OPT_DEADLINE:
            o->decide.deadline_ms = strtol(optarg, &end, 10);
            break;
        case OPT_TIMEOUT:
            o->timeout_ms = (int)strtol(optarg, &end, 10);
            break;
        case 'h':
        case OPT_HELP:
            usage(stdout);
            return 1;
        default:
            usage(stderr);
            return EXIT_USAGE;
        }
        if (end && (*end || end == optarg)) {
            fprintf(stderr, "verdict: expected a number, got '%s'\n", optarg);
            return EXIT_USAGE;
        }
    }
    return 0;
}

int main(int argc, char **argv) {
    cli_t o = {.socket = getenv("VERDICT_SOCKET"), .timeout_ms = 30000};
    if (!o.socket || !*o.socket) o.socket = "./verdict.sock";
    const char *env_socket = o.socket; /* the default: --socket before the command changes it */
    int rc = parse_options(&o, argc, argv, "+h");
    if (rc) return rc == 1 ? 0 : rc;
    if (optind >= argc) {
        usage(stderr);
        return EXIT_USAGE;
    }
    argc -= optind;
    argv += optind;
    if (strcmp(argv[0], "log") == 0) return vd_cmd_log(argc, argv);
    if (strcmp(argv[0], "replay") == 0) return vd_cmd_replay(argc, argv);
    if (strcmp(argv[0], "state") == 0 || strcmp(argv[0], "list") == 0)
        return vd_cmd_state(argc, argv,
                            &(vd_cmd_state_opts_t){o.socket != env_socket ? o.socket : NULL,
                                                   env_socket, o.compact, o.timeout_ms});
    if (strcmp(argv[0], "test") == 0) return vd_cmd_test(argc, argv);
    if (strcmp(argv[0], "report") == 0)
        return vd_cmd_report(argc, argv,
                             &(vd_cmd_report_opts_t){o.socket, o.compact, o.timeout_ms});
    /* The daemon's commands also take their options after the command's name. */
    optind = 0;
    if ((rc = parse_options(&o, argc, argv, "h"))) return rc == 1 ? 0 : rc;
    /* getopt moved the command's arguments last, after the options. */
    argv[optind - 1] = argv[0];
    return run_command(&o, argc - optind + 1, argv + optind - 1);
}
