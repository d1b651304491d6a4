#include "cmd_test.h"

#include "base/error.h"
#include "base/log.h"
#include "base/path.h"
#include "plugin/default_dirs.h"
#include "ptest/junit.h"
#include "ptest/report.h"
#include "ptest/runner.h"

#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>

#ifndef VD_PLUGIN_INSTALL_DIR
#define VD_PLUGIN_INSTALL_DIR "/usr/local/lib/verdict/plugins"
#endif

#define MAX_PLUGIN_DIRS 16

typedef struct test_cli {
    vd_ptest_config_t cfg;
    const char *junit;
    int coverage, verbose, strict;
    const char *dirs[MAX_PLUGIN_DIRS];
    size_t ndirs;
} test_cli_t;

static void usage(FILE *out) {
    fprintf(out, "usage: verdict test [options] [DIR]\n"
                 "  Runs the policy tests (*_test.lua files) beside the policies in DIR (default\n"
                 "  policies) offline, through the same executor as verdictd.\n"
                 "  --run PATTERN     only the cases whose name matches this regular expression\n"
                 "  --coverage        list the rules no case fires, per pipeline\n"
                 "  --strict          the lint's findings (printed as warnings) fail the run\n"
                 "  --junit FILE      also write the results as JUnit XML\n"
                 "  --verbose, -v     list every case, not only those that fail\n"
                 "  --data-dir DIR    verdict.data_dir (default ./data)\n"
                 "  --plugin-dir DIR  where plugins are found (repeatable)\n");
}

/* Reads the options; returns -1 to go on, else the exit status. */
static int parse(test_cli_t *t, int argc, char **argv) {
    enum { O_RUN = 1000, O_COVERAGE, O_STRICT, O_JUNIT, O_DATA, O_PLUGIN, O_HELP };
    static const struct option opts[] = {{"run", required_argument, 0, O_RUN},
                                         {"coverage", no_argument, 0, O_COVERAGE},
                                         {"junit", required_argument, 0, O_JUNIT},
                                         {"verbose", no_argument, 0, 'v'},
                                         {"data-dir", required_argument, 0, O_DATA},
                                         {"plugin-dir", required_argument, 0, O_PLUGIN},
                                         {"strict", no_argument, 0, O_STRICT},
                                         {"help", no_argument, 0, O_HELP},
                                         {0, 0, 0, 0}};
    optind = 0;               /* start afresh: options may follow the directory */
    argv[0] = "verdict test"; /* how getopt names the command in its messages */
    for (int o; (o = getopt_long(argc, argv, "hv", opts, NULL)) != -1;) {
        if (o == O_RUN) {
            t->cfg.run = optarg;
        } else if (o == O_COVERAGE) {
            t->coverage = 1;
        } else if (o == O_STRICT) {
            t->strict = 1;
        } else if (o == O_JUNIT) {
            t->junit = optarg;
        } else if (o == 'v') {
            t->verbose = 1;
        } else if (o == O_DATA) {
            t->cfg.data_dir = optarg;
        } else if (o == O_PLUGIN && t->ndirs < MAX_PLUGIN_DIRS) {
            t->dirs[t->ndirs++] = optarg;
        } else if (o == O_PLUGIN) {
            fprintf(stderr, "verdict test: at most %d --plugin-dir\n", MAX_PLUGIN_DIRS);
            return 2;
        } else {
            usage(o == 'h' || o == O_HELP ? stdout : stderr);
            return o == 'h' || o == O_HELP ? 0 : 2;
        }
    }
    if (argc - optind > 1) {
        fprintf(stderr, "verdict test: one policy directory at most\n");
        usage(stderr);
        return 2;
    }
    if (optind < argc) t->cfg.dir = argv[optind];
    return -1;
}

/* The lint's findings, as verdictd --check prints them (on stderr: the results stay apart). */
static void write_lint(const vd_lint_report_t *r, int strict) {
    for (size_t i = 0; i < r->n; i++) {
        char line[1200];
        vd_lint_format(&r->items[i], strict, line, sizeof line);
        fprintf(stderr, "%s\n", line);
    }
}

static int write_junit(const char *path, const vd_ptest_run_t *run) {
    errno = 0;
    FILE *f = fopen(path, "w");
    int bad = !f || vd_ptest_write_junit(run, f) != 0;
    if ((f && fclose(f) != 0) || bad) {
        fprintf(stderr, "verdict test: cannot write %s: %s\n", path,
                errno ? strerror(errno) : "write error");
        return -1;
    }
    return 0;
}

int vd_cmd_test(int argc, char **argv) {
    test_cli_t t = {.cfg = {.dir = "policies", .data_dir = "./data"}};
    int status = parse(&t, argc, argv);
    if (status >= 0) return status;
    char data_abs[PATH_MAX];
    if (vd_path_absolute(t.cfg.data_dir, data_abs, sizeof data_abs) != 0) return 2;
    t.cfg.data_dir = data_abs;
    vd_plugin_dirs_t defaults;
    if (t.ndirs == 0) {
        vd_plugin_default_dirs(&defaults, VD_PLUGIN_INSTALL_DIR);
        for (size_t i = 0; i < defaults.n; i++)
            t.dirs[t.ndirs++] = defaults.dirs[i];
    }
    t.cfg.plugin_dirs = t.dirs;
    t.cfg.nplugin_dirs = t.ndirs;
    /* Loading a policy says what it loaded, and rules that fail are logged: each case's
     * report says what matters. */
    vd_log_set_level(VD_LOG_ERROR);
    vd_ptest_run_t run;
    char err[2048] = "";
    int rc = vd_ptest_run(&run, &t.cfg, err, sizeof err);
    if (rc != 0) {
        fprintf(stderr, "verdict test: %s\n", err);
        vd_ptest_run_free(&run);
        return rc == VD_EINVAL ? 2 : 1;
    }
    write_lint(&run.lint, t.strict);
    vd_ptest_write_results(&run, stdout, t.verbose);
    if (t.coverage) vd_ptest_coverage_write(&run.cov, stdout);
    vd_ptest_write_summary(&run, stdout);
    status = run.failed || run.errors || (t.strict && run.lint.n) ? 1 : 0;
    if (t.cfg.run && run.results.len == 0) { /* a mistyped filter must not pass a CI job */
        fprintf(stderr, "verdict test: no case matches --run '%s'\n", t.cfg.run);
        status = 1;
    }
    if (t.strict && run.lint.n)
        fprintf(stderr, "verdict test: %zu lint finding(s), errors with --strict\n", run.lint.n);
    if (t.junit && write_junit(t.junit, &run) != 0) status = 1;
    vd_ptest_run_free(&run);
    return status;
}
