#include "cmd_log.h"

#include "log_count.h"
#include "log_filter.h"
#include "log_input.h"
#include "log_render.h"
#include "log_scan.h"
#include "log_time.h"

#include <getopt.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

enum { EXIT_SKIPPED = 1, EXIT_USAGE = 2 };

/* Skipped lines reported one by one; past this they are only counted, so that a wrong file
 * (a binary, another format) does not bury the output in messages. */
#define MAX_REPORTS 20

typedef struct log_run {
    vd_log_filter_t filter;
    int json, count, color;
    vd_log_rec_t rec;
    vd_log_count_t counts;
    uint64_t skipped, reported;
    int failed; /* a file could not be opened or read to its end */
} log_run_t;

void vd_cmd_log_usage(FILE *out) {
    fprintf(out,
            "usage: verdict log [OPTIONS] FILE...\n"
            "  Reads decision logs (verdictd --decision-log; plain or gzip, - for stdin) and\n"
            "  prints their records. Every filter given must hold; a filter repeated holds\n"
            "  for any of its values.\n"
            "  --pipeline NAME        records of this pipeline\n"
            "  --action NAME          records whose (live) action is NAME\n"
            "  --shadow-action NAME   records whose shadow action is NAME\n"
            "  --changed-shadow       records whose shadow action differs from the live one\n"
            "  --rule NAME            records where the rule fired (live or shadow)\n"
            "  --since TIME           records at or after TIME: 2026-11-30T06:00:00Z,\n"
            "                         2026-11-30 (UTC), or that long ago: 30m, 2h, 3d, 1h30m\n"
            "  --until TIME           records before TIME (same forms)\n"
            "  --id ID[,ID...]        these decisions\n"
            "  --type TYPE            lines of this type instead (decision: the records)\n"
            "  --json                 print the matching lines as they are (JSON Lines)\n"
            "  --count                count the matching records per pipeline and action\n"
            "                         (as JSON with --json)\n"
            "  --color WHEN           auto (a terminal, NO_COLOR unset), always or never\n"
            "  exit status: 0 every line read, 1 some skipped (reported on stderr), 2 usage\n");
}

/* Counts a skipped line and says why, up to MAX_REPORTS times unless always. */
static void skip_line(log_run_t *r, const vd_log_input_t *in, int always, const char *fmt, ...) {
    r->skipped++;
    if (r->reported >= MAX_REPORTS && !always) return;
    r->reported++;
    fprintf(stderr, "verdict log: %s:%llu: ", in->name, (unsigned long long)in->line);
    va_list ap;
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
}

static int blank(const char *line, size_t len) {
    for (size_t i = 0; i < len; i++)
        if (line[i] != ' ' && line[i] != '\t' && line[i] != '\r') return 0;
    return 1;
}

/* Shows one line if it matches. Returns -1 only when memory ran out. */
static int handle_line(log_run_t *r, const vd_log_input_t *in, const char *line, size_t len) {
    vd_log_rec_t *rec = &r->rec;
    if (blank(line, len)) return 0;
    if (vd_log_scan(rec, line, len) != 0) {
        skip_line(r, in, 0, "malformed JSON at column %zu (%s): skipped", rec->error_at + 1,
                  rec->error);
        return 0;
    }
    const char *why = vd_log_rec_check(rec);
    if (why) {
        skip_line(r, in, 0, "not a decision record (%s): skipped", why);
        return 0;
    }
    if (!vd_log_filter_match(&r->filter, rec)) return 0;
    if (r->count) return vd_log_count_add(&r->counts, rec);
    if (r->json) {
        fwrite(line, 1, len, stdout);
        putchar('\n');
        return 0;
    }
    char err[256];
    if (vd_log_render(stdout, line, len, r->color, err, sizeof err) != 0)
        skip_line(r, in, 0, "malformed JSON at %s: skipped", err);
    return 0;
}

/* Reads one file to its end. Returns -1 only when memory ran out. */
static int read_file(log_run_t *r, const char *path) {
    vd_log_input_t in;
    int rc = 0, got;
    const char *line;
    size_t len;
    if (vd_log_input_open(&in, path) != 0) {
        fprintf(stderr, "verdict log: %s\n", in.error);
        vd_log_input_close(&in);
        r->failed = 1;
        return 0;
    }
    while (rc == 0 && (got = vd_log_input_next(&in, &line, &len)) > VD_LOG_END) {
        if (got == VD_LOG_LINE) {
            rc = handle_line(r, &in, line, len);
            continue;
        }
        skip_line(r, &in, 1, "the last line is cut short (still being written?): skipped");
    }
    if (rc == 0 && got == VD_LOG_FAILED) {
        fprintf(stderr, "verdict log: %s\n", in.error);
        r->failed = 1;
    }
    if (in.cut_short) {
        fprintf(stderr, "verdict log: %s: the compressed data ends early\n", path);
        r->failed = 1;
    }
    vd_log_input_close(&in);
    if (rc) fprintf(stderr, "verdict log: out of memory\n");
    return rc;
}

static int64_t now_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int time_option(const char *opt, const char *arg, int64_t *ms, int *has) {
    if (vd_log_time_arg(arg, now_ms(), ms) == 0) {
        *has = 1;
        return 0;
    }
    fprintf(stderr,
            "verdict log: %s '%s' is not a time: write 2026-11-30T06:00:00Z, 2026-11-30 or how "
            "long ago (30m, 2h, 3d, 1h30m)\n",
            opt, arg);
    return -1;
}

static int color_option(const char *arg, int *color) {
    if (strcmp(arg, "auto") == 0) {
        const char *no = getenv("NO_COLOR");
        *color = isatty(STDOUT_FILENO) && !(no && *no);
    } else if (strcmp(arg, "always") == 0 || strcmp(arg, "never") == 0) {
        *color = arg[0] == 'a';
    } else {
        fprintf(stderr, "verdict log: --color takes auto, always or never, not '%s'\n", arg);
        return -1;
    }
    return 0;
}

enum {
    O_PIPELINE = 1000,
    O_ACTION,
    O_SHADOW_ACTION,
    O_CHANGED_SHADOW,
    O_RULE,
    O_SINCE,
    O_UNTIL,
    O_ID,
    O_TYPE,
    O_JSON,
    O_COUNT,
    O_COLOR,
    O_HELP
};

static const struct option options[] = {{"pipeline", required_argument, 0, O_PIPELINE},
                                        {"action", required_argument, 0, O_ACTION},
                                        {"shadow-action", required_argument, 0, O_SHADOW_ACTION},
                                        {"changed-shadow", no_argument, 0, O_CHANGED_SHADOW},
                                        {"rule", required_argument, 0, O_RULE},
                                        {"since", required_argument, 0, O_SINCE},
                                        {"until", required_argument, 0, O_UNTIL},
                                        {"id", required_argument, 0, O_ID},
                                        {"type", required_argument, 0, O_TYPE},
                                        {"json", no_argument, 0, O_JSON},
                                        {"count", no_argument, 0, O_COUNT},
                                        {"color", required_argument, 0, O_COLOR},
                                        {"help", no_argument, 0, O_HELP},
                                        {0, 0, 0, 0}};

/* One option into r. Returns 0, 1 for --help, -1 for a usage error. */
static int apply_option(log_run_t *r, int opt, const char *arg) {
    vd_log_filter_t *f = &r->filter;
    vd_log_names_t *names[] = {[O_PIPELINE - O_PIPELINE] = &f->pipelines,
                               [O_ACTION - O_PIPELINE] = &f->actions,
                               [O_SHADOW_ACTION - O_PIPELINE] = &f->shadow_actions,
                               [O_RULE - O_PIPELINE] = &f->rules,
                               [O_TYPE - O_PIPELINE] = &f->types};
    switch (opt) {
    case O_PIPELINE:
    case O_ACTION:
    case O_SHADOW_ACTION:
    case O_RULE:
    case O_TYPE:
        return vd_log_names_add(names[opt - O_PIPELINE], arg);
    case O_CHANGED_SHADOW:
        f->changed_shadow = 1;
        return 0;
    case O_SINCE:
        return time_option("--since", arg, &f->since_ms, &f->has_since);
    case O_UNTIL:
        return time_option("--until", arg, &f->until_ms, &f->has_until);
    case O_ID:
        if (vd_log_filter_add_ids(f, arg) > 0) return 0;
        fprintf(stderr, "verdict log: --id '%s' names no decision\n", arg);
        return -1;
    case O_JSON:
        r->json = 1;
        return 0;
    case O_COUNT:
        r->count = 1;
        return 0;
    case O_COLOR:
        return color_option(arg, &r->color);
    case O_HELP:
        vd_cmd_log_usage(stdout);
        return 1;
    default:
        fprintf(stderr, "verdict log: try 'verdict log --help'\n");
        return -1;
    }
}

static int run(log_run_t *r, int nfiles, char **files) {
    static char outbuf[1 << 20];
    if (!isatty(STDOUT_FILENO)) setvbuf(stdout, outbuf, _IOFBF, sizeof outbuf);
    int rc = 0;
    for (int i = 0; i < nfiles && rc == 0; i++)
        rc = read_file(r, files[i]);
    if (rc == 0 && r->count && vd_log_count_print(&r->counts, stdout, r->json) != 0) rc = -1;
    if (r->skipped > r->reported)
        fprintf(stderr, "verdict log: %llu lines skipped in all, %llu of them not reported above\n",
                (unsigned long long)r->skipped, (unsigned long long)(r->skipped - r->reported));
    if (fflush(stdout) != 0 || ferror(stdout)) {
        fprintf(stderr, "verdict log: cannot write the output\n");
        rc = -1;
    }
    return rc || r->skipped || r->failed ? EXIT_SKIPPED : 0;
}

int vd_cmd_log(int argc, char **argv) {
    log_run_t r = {0};
    color_option("auto", &r.color);
    int opt, rc = 0;
    optind = 0; /* a fresh scan: the global options were read with another argv */
    while (rc == 0 && (opt = getopt_long(argc, argv, "h", options, NULL)) != -1)
        rc = apply_option(&r, opt == 'h' ? O_HELP : opt, optarg);
    if (rc == 0 && optind >= argc) {
        fprintf(stderr, "verdict log: name at least one FILE (- for standard input)\n");
        rc = -1;
    }
    if (rc == 0) {
        vd_log_filter_ready(&r.filter);
        rc = run(&r, argc - optind, argv + optind);
    } else {
        rc = rc > 0 ? 0 : EXIT_USAGE;
    }
    vd_log_filter_free(&r.filter);
    vd_log_rec_free(&r.rec);
    vd_log_count_free(&r.counts);
    return rc;
}
