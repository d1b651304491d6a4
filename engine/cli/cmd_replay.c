/* verdict replay --policies DIR FILE...: a candidate policy over recorded decisions (or plain
 * events), compared with what was decided or with a baseline policy; the report as text, JSON
 * and HTML, and the changed decisions as JSON Lines (docs/backtesting.md). */
#include "cmd_replay.h"

#include "base/arena.h"
#include "base/error.h"
#include "base/log.h"
#include "base/path.h"
#include "plugin/default_dirs.h"
#include "proto/json_write.h"
#include "replay/labels.h"
#include "replay/replay.h"
#include "replay/report.h"

#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifndef VD_PLUGIN_INSTALL_DIR
#define VD_PLUGIN_INSTALL_DIR "/usr/local/lib/verdict/plugins"
#endif

#define MAX_RULES    256
#define MAX_PLUGINS  16
#define EMIT_CHANGED 1
#define EMIT_ALL     2

typedef struct replay_cli {
    vd_report_t *report;
    vd_labels_t *labels;
    const char *label_field;
    int emit;
    vd_arena_t arena;         /* one row's strings */
    msgpack_sbuffer mp, json; /* scratch */
    const char *rules[2][MAX_RULES];
} replay_cli_t;

static void usage(FILE *out) {
    fprintf(out,
            "usage: verdict replay --policies DIR [options] FILE...\n"
            "  Runs the policies in DIR over recorded decisions (decision-log files) or plain\n"
            "  JSON Lines events (\"-\": stdin), offline, in the order given, and reports what\n"
            "  would have changed.\n"
            "  --baseline DIR        compare with these policies instead of the records\n"
            "  --recompute WHAT      plugins, state or plugins,state: ask them again instead of\n"
            "                        reusing what the records observed\n"
            "  --state-snapshot FILE start from this state (verdictd --state-snapshot's file)\n"
            "  --pipeline NAME       the pipeline of plain events (records name their own)\n"
            "  --time-field NAME     the time of plain events (default time)\n"
            "  --labels FILE         bad/good per decision id or entity (docs/backtesting.md)\n"
            "  --label-field NAME    labels are keyed by this event field, not the decision id\n"
            "  --json FILE           the whole report as JSON\n"
            "  --html FILE           the report as a self-contained HTML page\n"
            "  --emit changed|all    decisions (those whose action changed, or all) as JSON\n"
            "                        Lines on stdout; the text report then goes to stderr\n"
            "  --samples N           changed decisions shown in the report (default 20)\n"
            "  --data-dir DIR        verdict.data_dir (default ./data)\n"
            "  --plugin-dir DIR      where plugins are found (repeatable)\n"
            "  --threads N           threads reading and deciding (default: one per CPU)\n");
}

static const char *str_copy(replay_cli_t *c, const msgpack_object *o) {
    if (!o || (o->type != MSGPACK_OBJECT_STR)) return NULL;
    return vd_arena_strndup(&c->arena, o->via.str.ptr, o->via.str.size);
}

static double number(const msgpack_object *o) {
    if (!o) return 0;
    switch (o->type) {
    case MSGPACK_OBJECT_FLOAT32:
    case MSGPACK_OBJECT_FLOAT64:
        return o->via.f64;
    case MSGPACK_OBJECT_POSITIVE_INTEGER:
        return (double)o->via.u64;
    case MSGPACK_OBJECT_NEGATIVE_INTEGER:
        return (double)o->via.i64;
    default:
        return 0;
    }
}

/* JSON text of a msgpack value, in the row's arena. */
static const char *json_of(replay_cli_t *c, const char *mp, size_t len) {
    c->json.size = 0;
    if (!vd_mp_to_json(&c->json, mp, len)) return NULL;
    return vd_arena_strndup(&c->arena, c->json.data, c->json.size);
}

/* A side of the comparison from a decision (a result map: a record's or a policy's). */
static void side_of(replay_cli_t *c, const msgpack_object *d, vd_replay_side_t *s,
                    const char **rules, int want_json) {
    const msgpack_object *reasons = vd_replay_get(d, "reasons");
    s->action = str_copy(c, vd_replay_get(d, "action"));
    s->score = number(vd_replay_get(d, "score"));
    s->nrules = 0;
    for (uint32_t i = 0; reasons && reasons->type == MSGPACK_OBJECT_ARRAY &&
                         i < reasons->via.array.size && s->nrules < MAX_RULES;
         i++) {
        const char *rule = str_copy(c, vd_replay_get(&reasons->via.array.ptr[i], "rule"));
        if (rule) rules[s->nrules++] = rule;
    }
    s->rules = rules;
    s->reasons_json = NULL;
    if (want_json && reasons) {
        c->mp.size = 0;
        msgpack_packer pk;
        msgpack_packer_init(&pk, &c->mp, msgpack_sbuffer_write);
        msgpack_pack_object(&pk, *reasons);
        s->reasons_json = json_of(c, c->mp.data, c->mp.size);
    }
}

static int label_of(replay_cli_t *c, const vd_replay_rec_t *rec) {
    if (!c->labels) return -1;
    int label = vd_labels_get(c->labels, rec->id, strlen(rec->id));
    if (label >= 0 || !c->label_field) return label;
    const msgpack_object *v = vd_replay_get(rec->event, c->label_field);
    char num[24]; /* an integer entity (an account number) is keyed by its decimal text, as a
                     labels file's integer "entity" and a CSV key are */
    int n = -1;
    if (v && v->type == MSGPACK_OBJECT_STR)
        return vd_labels_get(c->labels, v->via.str.ptr, v->via.str.size);
    if (v && v->type == MSGPACK_OBJECT_POSITIVE_INTEGER)
        n = snprintf(num, sizeof num, "%llu", (unsigned long long)v->via.u64);
    else if (v && v->type == MSGPACK_OBJECT_NEGATIVE_INTEGER)
        n = snprintf(num, sizeof num, "%lld", (long long)v->via.i64);
    return n > 0 ? vd_labels_get(c->labels, num, (size_t)n) : -1;
}

/* One JSON line for --emit: the decision's id, time, pipeline and event, what was decided
 * and what the candidate decides. */
static void emit(replay_cli_t *c, const vd_replay_out_t *out, const vd_replay_row_t *row) {
    c->mp.size = 0;
    msgpack_packer pk;
    msgpack_packer_init(&pk, &c->mp, msgpack_sbuffer_write);
    msgpack_pack_map(&pk, 6);
    msgpack_pack_str_with_body(&pk, "id", 2);
    msgpack_pack_str_with_body(&pk, row->id, strlen(row->id));
    msgpack_pack_str_with_body(&pk, "time_ms", 7);
    msgpack_pack_int64(&pk, row->time_ms);
    msgpack_pack_str_with_body(&pk, "pipeline", 8);
    msgpack_pack_str_with_body(&pk, row->pipeline, strlen(row->pipeline));
    msgpack_pack_str_with_body(&pk, "event", 5);
    msgpack_pack_object(&pk, *out->rec->event);
    const vd_replay_side_t *sides[2] = {&row->before, &row->after};
    static const char *const names[2] = {"before", "after"};
    for (int k = 0; k < 2; k++) {
        msgpack_pack_str_with_body(&pk, names[k], strlen(names[k]));
        msgpack_pack_map(&pk, 2);
        msgpack_pack_str_with_body(&pk, "action", 6);
        const char *a = sides[k]->action ? sides[k]->action : "";
        msgpack_pack_str_with_body(&pk, a, strlen(a));
        msgpack_pack_str_with_body(&pk, "score", 5);
        msgpack_pack_double(&pk, sides[k]->score);
    }
    c->json.size = 0;
    if (vd_mp_to_json(&c->json, c->mp.data, c->mp.size)) {
        fwrite(c->json.data, 1, c->json.size, stdout);
        fputc('\n', stdout);
    }
}

static int on_decision(void *ud, const vd_replay_out_t *out) {
    replay_cli_t *c = ud;
    const vd_replay_rec_t *rec = out->rec;
    vd_arena_reset(&c->arena);
    vd_replay_row_t row = {.id = rec->id, .time_ms = rec->time_ms, .pipeline = rec->pipeline};
    /* Reasons as JSON only when the report may keep them: the action changed. */
    const msgpack_object *before = out->before ? out->before : rec->decided;
    const char *before_action = str_copy(c, vd_replay_get(before, "action")),
               *after_action = str_copy(c, vd_replay_get(out->after, "action"));
    int changed = !before_action || !after_action || strcmp(before_action, after_action) != 0;
    if (before) side_of(c, before, &row.before, c->rules[0], changed);
    side_of(c, out->after, &row.after, c->rules[1], changed);
    row.label = label_of(c, rec);
    if (vd_report_add(c->report, &row) != 0) return VD_ENOMEM;
    if (c->emit == EMIT_ALL || (c->emit == EMIT_CHANGED && changed)) emit(c, out, &row);
    return 0;
}

/* A whole number from 0 to max for option name. */
static int count_arg(const char *name, const char *arg, long max, long *out) {
    char *end;
    long v = strtol(arg, &end, 10);
    if (!*arg || *end || v < 0 || v > max) {
        fprintf(stderr, "verdict replay: %s takes a whole number from 0 to %ld, not '%s'\n", name,
                max, arg);
        return -1;
    }
    *out = v;
    return 0;
}

static int parse_recompute(const char *arg, vd_replay_config_t *cfg) {
    char buf[64];
    snprintf(buf, sizeof buf, "%s", arg);
    for (char *save = NULL, *w = strtok_r(buf, ",", &save); w; w = strtok_r(NULL, ",", &save)) {
        if (strcmp(w, "plugins") == 0)
            cfg->reuse_plugins = 0;
        else if (strcmp(w, "state") == 0)
            cfg->reuse_state = 0;
        else
            return -1;
    }
    return 0;
}

static int write_file(const char *path, const vd_report_t *r,
                      int (*write)(const vd_report_t *, FILE *)) {
    FILE *f = fopen(path, "w");
    if (!f || write(r, f) != 0 || fclose(f) != 0) {
        fprintf(stderr, "verdict replay: cannot write %s\n", path);
        return -1;
    }
    return 0;
}

int vd_cmd_replay(int argc, char **argv) {
    vd_replay_config_t cfg = {.reuse_state = 1, .reuse_plugins = 1, .data_dir = "./data"};
    const char *json_path = NULL, *html_path = NULL, *labels_path = NULL;
    const char *dirs[MAX_PLUGINS];
    size_t ndirs = 0;
    vd_report_opts_t ropts = {.samples = 20, .before_name = "recorded"};
    replay_cli_t c = {0};
    enum {
        O_POL = 1000,
        O_BASE,
        O_RECOMP,
        O_SNAP,
        O_PIPE,
        O_TIME,
        O_LABELS,
        O_LFIELD,
        O_JSON,
        O_HTML,
        O_EMIT,
        O_SAMPLES,
        O_DATA,
        O_PLUGIN,
        O_THREADS,
        O_HELP
    };
    struct option opts[] = {{"policies", required_argument, 0, O_POL},
                            {"baseline", required_argument, 0, O_BASE},
                            {"recompute", required_argument, 0, O_RECOMP},
                            {"state-snapshot", required_argument, 0, O_SNAP},
                            {"pipeline", required_argument, 0, O_PIPE},
                            {"time-field", required_argument, 0, O_TIME},
                            {"labels", required_argument, 0, O_LABELS},
                            {"label-field", required_argument, 0, O_LFIELD},
                            {"json", required_argument, 0, O_JSON},
                            {"html", required_argument, 0, O_HTML},
                            {"emit", required_argument, 0, O_EMIT},
                            {"samples", required_argument, 0, O_SAMPLES},
                            {"data-dir", required_argument, 0, O_DATA},
                            {"plugin-dir", required_argument, 0, O_PLUGIN},
                            {"threads", required_argument, 0, O_THREADS},
                            {"help", no_argument, 0, O_HELP},
                            {0, 0, 0, 0}};
    vd_log_set_level(VD_LOG_WARN); /* each thread's policy load would say what it loaded */
    optind = 1;
    long n;
    for (int o; (o = getopt_long(argc, argv, "h", opts, NULL)) != -1;) {
        switch (o) {
        case O_POL:
            cfg.policy_dir = optarg;
            break;
        case O_BASE:
            cfg.baseline_dir = optarg, ropts.before_name = optarg;
            break;
        case O_RECOMP:
            if (parse_recompute(optarg, &cfg) != 0) {
                fprintf(stderr,
                        "verdict replay: --recompute takes plugins, state or "
                        "plugins,state, not '%s'\n",
                        optarg);
                return 2;
            }
            break;
        case O_SNAP:
            cfg.snapshot = optarg;
            break;
        case O_PIPE:
            cfg.input.pipeline = optarg;
            break;
        case O_TIME:
            cfg.input.time_field = optarg;
            break;
        case O_LABELS:
            labels_path = optarg;
            break;
        case O_LFIELD:
            c.label_field = optarg;
            break;
        case O_JSON:
            json_path = optarg;
            break;
        case O_HTML:
            html_path = optarg;
            break;
        case O_EMIT:
            if (strcmp(optarg, "changed") == 0)
                c.emit = EMIT_CHANGED;
            else if (strcmp(optarg, "all") == 0)
                c.emit = EMIT_ALL;
            else {
                fprintf(stderr, "verdict replay: --emit takes changed or all\n");
                return 2;
            }
            break;
        case O_SAMPLES:
            if (count_arg("--samples", optarg, 1000000, &n) != 0) return 2;
            ropts.samples = (size_t)n;
            break;
        case O_DATA:
            cfg.data_dir = optarg;
            break;
        case O_PLUGIN:
            if (ndirs == MAX_PLUGINS) {
                fprintf(stderr, "verdict replay: at most %d --plugin-dir\n", MAX_PLUGINS);
                return 2;
            }
            dirs[ndirs++] = optarg;
            break;
        case O_THREADS:
            if (count_arg("--threads", optarg, 64, &n) != 0) return 2;
            cfg.threads = (int)n;
            break;
        case 'h':
        case O_HELP:
            usage(stdout);
            return 0;
        default:
            usage(stderr);
            return 2;
        }
    }
    if (!cfg.policy_dir || optind >= argc) {
        fprintf(stderr, "verdict replay: needs --policies DIR and at least one FILE\n");
        usage(stderr);
        return 2;
    }
    char data_abs[PATH_MAX];
    if (vd_path_absolute(cfg.data_dir, data_abs, sizeof data_abs) != 0) return 2;
    cfg.data_dir = data_abs;
    vd_plugin_dirs_t defaults;
    if (ndirs == 0) {
        vd_plugin_default_dirs(&defaults, VD_PLUGIN_INSTALL_DIR);
        for (size_t i = 0; i < defaults.n; i++)
            dirs[ndirs++] = defaults.dirs[i];
    }
    cfg.plugin_dirs = dirs;
    cfg.nplugin_dirs = ndirs;
    ropts.after_name = cfg.policy_dir;
    char err[1024];
    if (labels_path && (!(c.labels = vd_labels_new()) ||
                        vd_labels_load(c.labels, labels_path, err, sizeof err) != 0)) {
        fprintf(stderr, "verdict replay: %s\n", c.labels ? err : "out of memory");
        vd_labels_free(c.labels);
        return 2;
    }
    if (!(c.report = vd_report_new(&ropts))) {
        vd_labels_free(c.labels);
        return 1;
    }
    vd_arena_init(&c.arena);
    msgpack_sbuffer_init(&c.mp);
    msgpack_sbuffer_init(&c.json);
    vd_replay_stats_t st;
    int rc = vd_replay_run(&cfg, (const char *const *)argv + optind, (size_t)(argc - optind),
                           on_decision, &c, &st, err, sizeof err);
    int status = 0;
    if (rc) {
        fprintf(stderr, "verdict replay: %s\n", err[0] ? err : vd_strerror(rc));
        status = 1;
    } else {
        FILE *text = c.emit ? stderr : stdout;
        vd_report_write_text(c.report, text);
        fprintf(text,
                "replayed %llu decisions from %llu lines in %.2f s (%.0f a second; %llu needed "
                "state the records did not have and were made again in order)%s\n",
                (unsigned long long)st.replayed, (unsigned long long)st.lines, st.seconds,
                st.seconds > 0 ? (double)st.replayed / st.seconds : 0.0,
                (unsigned long long)st.again,
                st.skipped || st.failed ? "; some lines were skipped (see above)" : "");
        if (json_path && write_file(json_path, c.report, vd_report_write_json) != 0) status = 1;
        if (html_path && write_file(html_path, c.report, vd_report_write_html) != 0) status = 1;
        if (st.skipped || st.failed) status = 1;
    }
    vd_report_free(c.report);
    vd_labels_free(c.labels);
    vd_arena_close(&c.arena);
    msgpack_sbuffer_destroy(&c.mp);
    msgpack_sbuffer_destroy(&c.json);
    return status;
}
