/* verdict: the command-line client of verdictd (JSON in, JSON out), and the offline commands
 * (cmd_*.c). */
#include "cmd_log.h"
#include "cmd_replay.h"
#include "proto/json_msgpack.h"
#include "verdict/client.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { EXIT_RPC = 1, EXIT_USAGE = 2, EXIT_CONNECT = 3 };

typedef struct cli {
    const char *socket;
    int explain, compact, timeout_ms;
    long deadline_ms;
} cli_t;

static void usage(FILE *out) {
    fprintf(out,
            "usage: verdict [--socket PATH] COMMAND [ARGS]\n"
            "commands:\n"
            "  decide PIPELINE ['JSON-EVENT']   decide for an event (read from stdin if omitted)\n"
            "      --explain                    add the per-stage trace\n"
            "      --deadline-ms MS             fail with 'timeout' past this deadline\n"
            "  ping                             check that verdictd answers\n"
            "  pipelines                        list the loaded pipelines and their stages\n"
            "  stats                            counters and latencies\n"
            "  reload                           load the policies again\n"
            "  log [OPTIONS] FILE...            read decision logs (offline; see below)\n"
            "  replay --policies DIR FILE...    a policy over recorded decisions (offline;\n"
            "                                   verdict replay --help)\n"
            "options of the daemon's commands (before or after the command's name):\n"
            "  --socket PATH     default $VERDICT_SOCKET, else ./verdict.sock\n"
            "  --compact         one-line JSON output\n"
            "  --timeout-ms MS   how long to wait for the reply (default 30000)\n"
            "\n");
    vd_cmd_log_usage(out);
}

static char *read_stdin(void) {
    size_t cap = 4096, len = 0;
    char *buf = malloc(cap);
    size_t n;
    while (buf && (n = fread(buf + len, 1, cap - len - 1, stdin)) > 0) {
        len += n;
        if (cap - len < 2) {
            char *more = realloc(buf, cap *= 2);
            if (!more) free(buf);
            buf = more;
        }
    }
    if (buf) buf[len] = '\0';
    return buf;
}

/* Packs the decide params [pipeline, event(, options)] from the JSON text. */
static int decide_params(const cli_t *o, const char *pipeline, const char *text,
                         msgpack_sbuffer *sb) {
    json_error_t jerr;
    json_t *event = json_loads(text, JSON_REJECT_DUPLICATES, &jerr);
    if (!event) {
        fprintf(stderr, "verdict: the event is not valid JSON: line %d, column %d: %s\n", jerr.line,
                jerr.column, jerr.text);
        return -1;
    }
    if (!json_is_object(event)) {
        fprintf(stderr, "verdict: the event must be a JSON object, like '{\"ip\": \"1.2.3.4\"}'\n");
        json_decref(event);
        return -1;
    }
    msgpack_packer pk;
    msgpack_packer_init(&pk, sb, msgpack_sbuffer_write);
    int nopts = o->explain + (o->deadline_ms > 0);
    msgpack_pack_array(&pk, nopts ? 3 : 2);
    msgpack_pack_str_with_body(&pk, pipeline, strlen(pipeline));
    vd_json_pack(&pk, event);
    if (nopts) {
        msgpack_pack_map(&pk, (size_t)nopts);
        if (o->explain) {
            msgpack_pack_str_with_body(&pk, "explain", 7);
            msgpack_pack_true(&pk);
        }
        if (o->deadline_ms > 0) {
            msgpack_pack_str_with_body(&pk, "deadline_ms", 11);
            msgpack_pack_int64(&pk, o->deadline_ms);
        }
    }
    json_decref(event);
    return 0;
}

static int print_result(const cli_t *o, const msgpack_object *result) {
    json_t *j = vd_msgpack_to_json(result);
    size_t flags =
        JSON_ENCODE_ANY | JSON_REAL_PRECISION(10) | (o->compact ? JSON_COMPACT : JSON_INDENT(2));
    char *s = j ? json_dumps(j, flags) : NULL;
    json_decref(j);
    if (!s) {
        fprintf(stderr, "verdict: cannot render the reply as JSON\n");
        return EXIT_RPC;
    }
    puts(s);
    free(s);
    return 0;
}

static int call(const cli_t *o, const char *method, msgpack_sbuffer *params) {
    vd_client_t *c;
    char err[512];
    if (vd_client_connect(o->socket, &c, err, sizeof err) != 0) {
        fprintf(stderr, "verdict: %s\n", err);
        return EXIT_CONNECT;
    }
    vd_client_reply_t r;
    int rc;
    if (vd_client_call(c, method, params->data, params->size, &r, o->timeout_ms) != 0) {
        fprintf(stderr, "verdict: %s\n", vd_client_error(c));
        rc = EXIT_CONNECT;
    } else if (r.error) {
        char code[64], msg[4096];
        vd_client_error_fields(r.error, code, sizeof code, msg, sizeof msg);
        fprintf(stderr, "verdict: error %s: %s\n", code, msg);
        rc = EXIT_RPC;
    } else {
        rc = print_result(o, r.result);
    }
    vd_client_close(c);
    return rc;
}

/* Runs the daemon's command cmd with its arguments args[0..nargs). */
static int run_command(cli_t *o, const char *cmd, int nargs, char **args) {
    msgpack_sbuffer sb;
    msgpack_sbuffer_init(&sb);
    int rc;
    if (strcmp(cmd, "decide") == 0) {
        if (nargs < 1 || nargs > 2) {
            fprintf(stderr, "verdict: usage: verdict decide PIPELINE ['JSON-EVENT']\n");
            rc = EXIT_USAGE;
        } else {
            char *text = nargs == 2 ? strdup(args[1]) : read_stdin();
            rc = text && decide_params(o, args[0], text, &sb) == 0 ? call(o, "decide", &sb)
                                                                   : EXIT_USAGE;
            free(text);
        }
    } else if (strcmp(cmd, "ping") == 0 || strcmp(cmd, "pipelines") == 0 ||
               strcmp(cmd, "stats") == 0 || strcmp(cmd, "reload") == 0) {
        if (nargs != 0) {
            fprintf(stderr, "verdict: %s takes no arguments\n", cmd);
            rc = EXIT_USAGE;
        } else {
            msgpack_sbuffer_write(&sb, "\x90", 1); /* params [] */
            rc = call(o, cmd, &sb);
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
    enum { OPT_SOCKET = 1000, OPT_EXPLAIN, OPT_COMPACT, OPT_DEADLINE, OPT_TIMEOUT, OPT_HELP };
    static const struct option opts[] = {{"socket", required_argument, 0, OPT_SOCKET},
                                         {"explain", no_argument, 0, OPT_EXPLAIN},
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
            o->explain = 1;
            break;
        case OPT_COMPACT:
            o->compact = 1;
            break;
        case OPT_DEADLINE:
            o->deadline_ms = strtol(optarg, &end, 10);
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
    /* The daemon's commands also take their options after the command's name. */
    optind = 0;
    if ((rc = parse_options(&o, argc, argv, "h"))) return rc == 1 ? 0 : rc;
    /* getopt moved the command's arguments last, after the options. */
    return run_command(&o, argv[0], argc - optind, argv + optind);
}
