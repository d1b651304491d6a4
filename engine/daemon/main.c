/* verdictd: arguments, signals, start. Everything else lives in the engine. */
#include "base/error.h"
#include "base/log.h"
#include "base/path.h"
#include "crash.h"
#include "engine.h"
#include "plugin/default_dirs.h"
#include "plugin/registry.h"
#include "policy/lint.h"
#include "policy/policy.h"
#include "state/redis.h"

#include <getopt.h>
#include <limits.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define VERDICT_VERSION "0.1.0"
#define MAX_PLUGIN_DIRS 16
#ifndef VD_PLUGIN_INSTALL_DIR
#define VD_PLUGIN_INSTALL_DIR "/usr/local/lib/verdict/plugins"
#endif

static void usage(FILE *out) {
    fprintf(
        out,
        "usage: verdictd [options]\n"
        "  --socket PATH          Unix socket to listen on (default ./verdict.sock)\n"
        "  --socket-mode MODE     octal file mode of the socket (default 0660)\n"
        "  --admin-socket PATH    also listen on PATH, where the methods that change state\n"
        "                         are allowed (default: none)\n"
        "  --admin-socket-mode MODE\n"
        "                         octal file mode of the admin socket (default 0600)\n"
        "  --policies DIR         policy directory (default ./policies)\n"
        "  --workers N            worker threads (default: number of CPUs)\n"
        "  --plugin-dir DIR       where plugin \"name\" is found as DIR/name.so (repeatable;\n"
        "                         default: ../plugins and ../lib/verdict/plugins from\n"
        "                         the executable's directory, then\n"
        "                         " VD_PLUGIN_INSTALL_DIR ")\n"
        "  --data-dir DIR         data files for policies, as verdict.data_dir (default ./data)\n"
        "  --metrics HOST:PORT    serve Prometheus metrics at http://HOST:PORT/metrics\n"
        "  --log-level LEVEL      debug, info, warn or error (default info)\n"
        "  --max-request BYTES    largest request frame accepted (default 1048576)\n"
        "  --deadline-ms MS       default deadline of a decision, 0 = none (default 0)\n"
        "  --drain-timeout-ms MS  how long SIGTERM waits for clients (default 10000)\n"
        "  --idle-timeout-ms MS   close a connection idle this long, or whose replies wait\n"
        "                         unread this long, 0 = never (default 300000)\n"
        "  --max-connections N    open client connections; past it new ones wait in the\n"
        "                         listen backlog, 0 = no limit (default 10000)\n"
        "  --max-waiting N        decisions per worker that may wait for plugins or Redis at\n"
        "                         once; more are answered overloaded (default 10000)\n"
        "  --max-waiting-mb MB    request memory those decisions may hold per worker; past\n"
        "                         it new ones are answered overloaded (default 64)\n"
        "  --reply-buffer-mb MB   unsent replies per connection before its requests stop\n"
        "                         being read (default 4)\n"
        "  --request-timeout-ms MS\n"
        "                         a request begun must arrive whole within this, 0 = no limit\n"
        "                         (default 10000)\n"
        "  --lua-memory-mb MB     memory cap of each worker's Lua state (default 256)\n"
        "  --lua-rule-memory-mb MB\n"
        "                         memory one rule call may add to its Lua state (default 32)\n"
        "  --lua-instructions N   instruction budget of one rule call (default 1000000)\n"
        "  --state-memory-mb MB   memory cap of counters, distinct counts and labels\n"
        "                         (default 256; the least recently used go first)\n"
        "  --campaign-memory-mb MB\n"
        "                         memory cap of the campaign index (verdict.campaign;\n"
        "                         default 64; the coldest campaigns go first)\n"
        "  --report-limit N       reports (the report method) one reporter may make in an\n"
        "                         hour; past it they are refused (default 100)\n"
        "  --state-snapshot PATH  keep the embedded state (counters, distinct counts, labels,\n"
        "                         profiles, anomaly models) and the campaigns across\n"
        "                         restarts: read PATH at start, write it every\n"
        "                         interval and at shutdown (default: not kept)\n"
        "  --state-snapshot-interval SECONDS\n"
        "                         seconds between snapshots, 0 = only at shutdown\n"
        "                         (default 60)\n"
        "  --decision-log PATH    write every decision to PATH as JSON Lines (default: off;\n"
        "                         docs/decision-log.md); SIGHUP reopens it\n"
        "  --decision-log-max-mb MB\n"
        "                         rotate the file past this size, 0 = never (default 1024)\n"
        "  --decision-log-max-age-s SECONDS\n"
        "                         rotate the file this long after it was opened, 0 = never\n"
        "                         (default 86400)\n"
        "  --decision-log-keep N  rotated files kept, 0 = all (default 14)\n"
        "  --decision-log-buffer-mb MB\n"
        "                         records each worker may queue for the writer; past it new\n"
        "                         ones are dropped and counted (default 32)\n"
        "  --list-check-ms MS     how often list files are looked at for changes, 0 = never\n"
        "                         (default 1000; a change is loaded once it has settled)\n"
        "  --redis ADDRESS        keep counters, distinct counts, labels and campaigns in\n"
        "                         Redis, shared by every verdictd pointed at it: host:port,\n"
        "                         redis://host:port, unix:/path or /path (default: embedded)\n"
        "  --redis-prefix TEXT    put before every Redis key (default verdict:)\n"
        "  --redis-auth-file PATH AUTH with \"password\" or \"user password\" from this file\n"
        "  --redis-timeout-ms MS  how long each Redis call may take (default 50)\n"
        "  --state-fallback MODE  when Redis does not answer: local (this daemon's own state)\n"
        "                         or open (no counts, labels or campaigns); default local\n"
        "  --check                load and validate the policies, print the lint's warnings\n"
        "                         and the version, exit\n"
        "  --strict               with --check: lint warnings are errors (exit status 1)\n"
        "  --version, --help\n");
}

static int parse_long(const char *s, long min, long max, int base, long *out) {
    char *end;
    long v = strtol(s, &end, base);
    if (!*s || *end || v < min || v > max) return -1;
    *out = v;
    return 0;
}

/* How a numeric option is stored in the configuration. */
typedef enum { AS_INT, AS_UNSIGNED, AS_SIZE, AS_MIB, AS_INT64 } numopt_kind_t;

typedef struct numopt {
    const char *name;
    long min, max;
    int base;
    size_t offset; /* of the field in vd_config_t */
    numopt_kind_t kind;
} numopt_t;

#define FIELD(f) offsetof(vd_config_t, f)

static const numopt_t numopts[] = {
    {"workers", 1, 1024, 10, FIELD(workers), AS_INT},
    {"socket-mode", 0, 0777, 8, FIELD(socket_mode), AS_UNSIGNED},
    {"max-request", 64, 1L << 30, 10, FIELD(max_request), AS_SIZE},
    {"deadline-ms", 0, 3600000, 10, FIELD(deadline_ms), AS_INT},
    {"drain-timeout-ms", 0, 3600000, 10, FIELD(drain_timeout_ms), AS_INT},
    {"lua-memory-mb", 1, 1L << 20, 10, FIELD(lua.mem_limit), AS_MIB},
    {"lua-instructions", 1000, INT_MAX, 10, FIELD(lua.instr_limit), AS_INT64},
    {"state-memory-mb", 1, 1L << 20, 10, FIELD(state_bytes), AS_MIB},
    {"list-check-ms", 0, 3600000, 10, FIELD(list_check_ms), AS_INT},
    {"redis-timeout-ms", 1, 60000, 10, FIELD(redis_timeout_ms), AS_INT},
    {"state-snapshot-interval", 0, 86400, 10, FIELD(state_snapshot_interval_s), AS_INT},
    {"lua-rule-memory-mb", 1, 1L << 20, 10, FIELD(lua.call_mem_limit), AS_MIB},
    {"idle-timeout-ms", 0, 86400000, 10, FIELD(idle_timeout_ms), AS_INT},
    {"request-timeout-ms", 0, 3600000, 10, FIELD(request_timeout_ms), AS_INT},
    {"max-connections", 0, 10000000, 10, FIELD(max_connections), AS_INT},
    {"max-waiting", 1, 10000000, 10, FIELD(max_pending), AS_INT},
    {"max-waiting-mb", 1, 1L << 20, 10, FIELD(max_pending_bytes), AS_MIB},
    {"reply-buffer-mb", 1, 1L << 12, 10, FIELD(write_high_water), AS_MIB},
    {"decision-log-max-mb", 0, 1L << 30, 10, FIELD(decision_log_max_bytes), AS_MIB},
    {"decision-log-max-age-s", 0, 365L * 86400, 10, FIELD(decision_log_max_age_s), AS_INT},
    {"decision-log-keep", 0, 100000, 10, FIELD(decision_log_keep), AS_INT},
    {"decision-log-buffer-mb", 1, 1L << 14, 10, FIELD(decision_log_buffer), AS_MIB},
    {"admin-socket-mode", 0, 0777, 8, FIELD(admin_socket_mode), AS_UNSIGNED},
    {"campaign-memory-mb", 1, 1L << 20, 10, FIELD(campaign_bytes), AS_MIB},
    {"report-limit", 1, 1000000000, 10, FIELD(report_limit), AS_INT},
};

/* Stores v (already within the option's range) into its field. */
static void set_number(vd_config_t *cfg, const numopt_t *n, long v) {
    char *field = (char *)cfg + n->offset;
    switch (n->kind) {
    case AS_INT: {
        int x = (int)v;
        memcpy(field, &x, sizeof x);
        break;
    }
    case AS_UNSIGNED: {
        unsigned x = (unsigned)v;
        memcpy(field, &x, sizeof x);
        break;
    }
    case AS_SIZE:
    case AS_MIB: {
        size_t x = n->kind == AS_MIB ? (size_t)v << 20 : (size_t)v;
        memcpy(field, &x, sizeof x);
        break;
    }
    case AS_INT64: {
        int64_t x = v;
        memcpy(field, &x, sizeof x);
        break;
    }
    }
}

/* Snapshots keep the embedded store; state in Redis is Redis's to persist (RDB or AOF). Said at
 * once rather than ignored, so that nobody believes a fleet's counters are being saved. */
static int snapshot_conflict(const vd_config_t *cfg, int interval_given) {
    if (cfg->state_snapshot && cfg->redis_address) {
        fprintf(stderr, "verdictd: --state-snapshot keeps the embedded state; with --redis the "
                        "state lives in Redis, which persists it (RDB or AOF): drop one of the "
                        "two\n");
        return 1;
    }
    if (!cfg->state_snapshot && interval_given) {
        fprintf(stderr, "verdictd: --state-snapshot-interval needs --state-snapshot PATH\n");
        return 1;
    }
    return 0;
}

/* Prints the lint's findings on p; returns how many, or -1 when it could not run. */
static int lint(vd_policy_t *p, int strict) {
    vd_lint_report_t r;
    int rc = vd_policy_lint(p, &r);
    for (size_t i = 0; i < r.n; i++) {
        char line[1400];
        vd_lint_format(&r.items[i], strict, line, sizeof line);
        fprintf(stderr, "%s\n", line);
    }
    if (rc) fprintf(stderr, "verdictd: the policy lint could not run: %s\n", vd_strerror(rc));
    int n = rc ? -1 : (int)r.n;
    vd_lint_report_free(&r);
    return n;
}

/* Validates and lints the policies without serving: for editors, CI and `verdict` users. */
static int check_only(const vd_config_t *cfg, int strict) {
    char err[4096];
    vd_policy_src_t *src = NULL;
    vd_policy_t *p = NULL;
    vd_plugin_registry_t plugins;
    if (vd_plugin_registry_init(&plugins, cfg->plugin_dirs, cfg->nplugin_dirs) != 0) return 1;
    int rc = vd_policy_src_read(cfg->policy_dir, &src, err, sizeof err);
    if (rc == 0) rc = vd_policy_load(src, &cfg->lua, &plugins, &p, err, sizeof err);
    int findings = rc == 0 ? lint(p, strict) : 0;
    if (rc != 0)
        fprintf(stderr, "verdictd: policy error: %s\n", err);
    else if (strict && findings != 0) {
        fprintf(stderr, "verdictd: policies refused: lint findings are errors with --strict\n");
        rc = 1;
    } else
        printf("policies OK: %zu pipeline(s), %zu rule(s), version %s, %d lint warning(s)\n",
               p->npipelines, p->nrules, src->version, findings > 0 ? findings : 0);
    vd_policy_unref(p);
    vd_policy_src_unref(src);
    vd_plugin_registry_close(&plugins);
    return rc != 0;
}

int main(int argc, char **argv) {
    vd_config_t cfg;
    vd_config_defaults(&cfg);
    int check = 0, strict = 0, interval_given = 0;
    const char *dirs[MAX_PLUGIN_DIRS];
    const char *data_dir = "./data";
    size_t ndirs = 0;
    enum {
        OPT_SOCKET = 1000,
        OPT_POLICIES,
        OPT_PLUGIN_DIR,
        OPT_DATA_DIR,
        OPT_METRICS,
        OPT_LOG,
        OPT_CHECK,
        OPT_STRICT,
        OPT_VERSION,
        OPT_HELP,
        OPT_REDIS,
        OPT_REDIS_PREFIX,
        OPT_REDIS_AUTH,
        OPT_FALLBACK,
        OPT_SNAPSHOT,
        OPT_DLOG,
        OPT_ADMIN_SOCKET,
        OPT_NUM
    };
    struct option opts[] = {
        {"socket", required_argument, 0, OPT_SOCKET},
        {"policies", required_argument, 0, OPT_POLICIES},
        {"metrics", required_argument, 0, OPT_METRICS},
        {"plugin-dir", required_argument, 0, OPT_PLUGIN_DIR},
        {"data-dir", required_argument, 0, OPT_DATA_DIR},
        {"log-level", required_argument, 0, OPT_LOG},
        {"check", no_argument, 0, OPT_CHECK},
        {"strict", no_argument, 0, OPT_STRICT},
        {"version", no_argument, 0, OPT_VERSION},
        {"help", no_argument, 0, OPT_HELP},
        {"workers", required_argument, 0, OPT_NUM + 0},
        {"socket-mode", required_argument, 0, OPT_NUM + 1},
        {"max-request", required_argument, 0, OPT_NUM + 2},
        {"deadline-ms", required_argument, 0, OPT_NUM + 3},
        {"drain-timeout-ms", required_argument, 0, OPT_NUM + 4},
        {"lua-memory-mb", required_argument, 0, OPT_NUM + 5},
        {"lua-instructions", required_argument, 0, OPT_NUM + 6},
        {"state-memory-mb", required_argument, 0, OPT_NUM + 7},
        {"list-check-ms", required_argument, 0, OPT_NUM + 8},
        {"redis-timeout-ms", required_argument, 0, OPT_NUM + 9},
        {"state-snapshot-interval", required_argument, 0, OPT_NUM + 10},
        {"lua-rule-memory-mb", required_argument, 0, OPT_NUM + 11},
        {"idle-timeout-ms", required_argument, 0, OPT_NUM + 12},
        {"request-timeout-ms", required_argument, 0, OPT_NUM + 13},
        {"max-connections", required_argument, 0, OPT_NUM + 14},
        {"max-waiting", required_argument, 0, OPT_NUM + 15},
        {"max-waiting-mb", required_argument, 0, OPT_NUM + 16},
        {"reply-buffer-mb", required_argument, 0, OPT_NUM + 17},
        {"decision-log-max-mb", required_argument, 0, OPT_NUM + 18},
        {"decision-log-max-age-s", required_argument, 0, OPT_NUM + 19},
        {"decision-log-keep", required_argument, 0, OPT_NUM + 20},
        {"decision-log-buffer-mb", required_argument, 0, OPT_NUM + 21},
        {"admin-socket-mode", required_argument, 0, OPT_NUM + 22},
        {"campaign-memory-mb", required_argument, 0, OPT_NUM + 23},
        {"report-limit", required_argument, 0, OPT_NUM + 24},
        {"admin-socket", required_argument, 0, OPT_ADMIN_SOCKET},
        {"decision-log", required_argument, 0, OPT_DLOG},
        {"state-snapshot", required_argument, 0, OPT_SNAPSHOT},
        {"redis", required_argument, 0, OPT_REDIS},
        {"redis-prefix", required_argument, 0, OPT_REDIS_PREFIX},
        {"redis-auth-file", required_argument, 0, OPT_REDIS_AUTH},
        {"state-fallback", required_argument, 0, OPT_FALLBACK},
        {0, 0, 0, 0},
    };
    int c;
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        vd_log_level_t level;
        long v;
        if (c == OPT_SOCKET)
            cfg.socket_path = optarg;
        else if (c == OPT_ADMIN_SOCKET)
            cfg.admin_socket_path = optarg;
        else if (c == OPT_POLICIES)
            cfg.policy_dir = optarg;
        else if (c == OPT_METRICS)
            cfg.metrics_addr = optarg;
        else if (c == OPT_PLUGIN_DIR && ndirs < MAX_PLUGIN_DIRS)
            dirs[ndirs++] = optarg;
        else if (c == OPT_DATA_DIR)
            data_dir = optarg;
        else if (c == OPT_CHECK)
            check = 1;
        else if (c == OPT_STRICT)
            strict = 1;
        else if (c == OPT_SNAPSHOT)
            cfg.state_snapshot = optarg;
        else if (c == OPT_DLOG)
            cfg.decision_log = optarg;
        else if (c == OPT_REDIS_PREFIX)
            cfg.redis_prefix = optarg;
        else if (c == OPT_REDIS_AUTH) {
            char err[512];
            if (vd_redis_read_auth(optarg, &cfg.redis_user, &cfg.redis_password, err, sizeof err) !=
                0) {
                fprintf(stderr, "verdictd: --redis-auth-file: %s\n", err);
                return 2;
            }
        } else if (c == OPT_REDIS) {
            char err[256];
            if (vd_redis_check_address(optarg, err, sizeof err) != 0) {
                fprintf(stderr, "verdictd: --redis: %s\n", err);
                return 2;
            }
            cfg.redis_address = optarg;
        } else if (c == OPT_FALLBACK) {
            if (strcmp(optarg, "local") != 0 && strcmp(optarg, "open") != 0) {
                fprintf(stderr, "verdictd: --state-fallback: expected local or open\n");
                return 2;
            }
            cfg.lua.state_fail_open = strcmp(optarg, "open") == 0;
        } else if (c == OPT_VERSION)
            return puts("verdictd " VERDICT_VERSION), 0;
        else if (c == OPT_HELP)
            return usage(stdout), 0;
        else if (c == OPT_LOG) {
            if (vd_log_parse_level(optarg, &level) != 0) {
                fprintf(stderr, "verdictd: --log-level: expected debug, info, warn or error\n");
                return 2;
            }
            vd_log_set_level(level);
        } else if (c >= OPT_NUM && c < OPT_NUM + (int)(sizeof numopts / sizeof *numopts)) {
            const numopt_t *n = &numopts[c - OPT_NUM];
            if (parse_long(optarg, n->min, n->max, n->base, &v) != 0) {
                fprintf(stderr, "verdictd: --%s: expected a number from %ld to %ld, got '%s'\n",
                        n->name, n->min, n->max, optarg);
                return 2;
            }
            set_number(&cfg, n, v);
            interval_given |= c == OPT_NUM + 10;
        } else {
            usage(stderr);
            return 2;
        }
    }
    vd_plugin_dirs_t defaults;
    if (ndirs == 0) {
        vd_plugin_default_dirs(&defaults, VD_PLUGIN_INSTALL_DIR);
        for (size_t i = 0; i < defaults.n; i++)
            dirs[ndirs++] = defaults.dirs[i];
    }
    char data_abs[PATH_MAX];
    if (vd_path_absolute(data_dir, data_abs, sizeof data_abs) != 0) {
        fprintf(stderr, "verdictd: --data-dir %s: path too long\n", data_dir);
        return 2;
    }
    cfg.lua.data_dir = data_abs;
    cfg.plugin_dirs = dirs;
    cfg.nplugin_dirs = ndirs;
    if (optind < argc) {
        fprintf(stderr, "verdictd: unexpected argument '%s'\n", argv[optind]);
        return 2;
    }
    if (snapshot_conflict(&cfg, interval_given)) return 2;
    if (cfg.admin_socket_path && strcmp(cfg.admin_socket_path, cfg.socket_path) == 0) {
        fprintf(stderr, "verdictd: --admin-socket must be another path than --socket\n");
        return 2;
    }
    if (strict && !check) {
        fprintf(stderr, "verdictd: --strict goes with --check (it makes lint warnings errors)\n");
        return 2;
    }
    vd_crash_install(); /* a plugin that crashes, even in create(), is reported */
    if (check) return check_only(&cfg, strict);
    signal(SIGPIPE, SIG_IGN); /* a client that hangs up must not kill the daemon */
    vd_engine_t e;
    char err[4096];
    int rc = vd_engine_start(&e, &cfg, err, sizeof err);
    if (rc) {
        vd_log(VD_LOG_ERROR, "cannot start: %s", err);
        return 1;
    }
    vd_crash_own_socket(cfg.socket_path);
    if (cfg.admin_socket_path) {
        vd_crash_own_socket(cfg.admin_socket_path);
        vd_log(VD_LOG_INFO, "admin socket %s (mode %04o): state may be changed there",
               cfg.admin_socket_path, cfg.admin_socket_mode);
    }
    vd_log(VD_LOG_INFO, "verdictd %s listening on %s: %d worker(s), policies %s version %s",
           VERDICT_VERSION, cfg.socket_path, e.nworkers, cfg.policy_dir, e.version);
    vd_engine_run(&e);
    vd_engine_close(&e);
    vd_log(VD_LOG_INFO, "verdictd stopped");
    return 0;
}
