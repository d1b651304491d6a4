/* vd-report-rows: feeds comparison rows from JSON lines to the backtest report and writes it,
 * to try the report and to test it end to end without the replay engine. A row:
 *   {"id": "01J...", "time_ms": 1767225600000, "pipeline": "signup", "label": "bad",
 *    "entity": "x@example.com",
 *    "before": {"action": "allow", "score": 3.0, "reasons": [{"rule": "r", "score": 3.0}]},
 *    "after":  {"action": "block", "score": 12.0, "reasons": [...], "rules": ["r", "s"]}}
 * A side's rules are its "rules", else the "rule" of each reason; a side that is null or has
 * no "action" had no decision. With --labels FILE, a row's label is looked up by its id, then
 * its entity; else it is the row's "label" (bad/good or 1/0, null for unknown).
 * Usage: vd-report-rows [--format text|json|html] [--labels FILE] [--samples N]
 *                       [--reservoir N] [--before NAME] [--after NAME] [FILE...] */
#include "base/error.h"
#include "replay/labels.h"
#include "replay/report.h"

#include <getopt.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct side_buf {
    const char *rules[256];
    char *reasons;
} side_buf_t;

static void read_side(const json_t *j, vd_replay_side_t *s, side_buf_t *b) {
    memset(s, 0, sizeof *s);
    s->action = json_string_value(json_object_get(j, "action"));
    s->score = json_number_value(json_object_get(j, "score"));
    json_t *reasons = json_object_get(j, "reasons"), *rules = json_object_get(j, "rules"), *e;
    size_t i;
    if (json_is_array(rules)) {
        json_array_foreach(rules, i, e) {
            if (s->nrules < 256) b->rules[s->nrules++] = json_string_value(e);
        }
    } else if (json_is_array(reasons)) {
        json_array_foreach(reasons, i, e) {
            const char *rule = json_string_value(json_object_get(e, "rule"));
            if (rule && s->nrules < 256) b->rules[s->nrules++] = rule;
        }
    }
    s->rules = b->rules;
    /* A string "reasons" is passed as is: the report must cope with text that is not JSON. */
    if (json_is_string(reasons))
        s->reasons_json = json_string_value(reasons);
    else if (reasons)
        s->reasons_json = b->reasons = json_dumps(reasons, JSON_COMPACT | JSON_ENCODE_ANY);
}

static int row_label(const json_t *row, const vd_labels_t *labels) {
    if (labels) {
        const char *keys[] = {json_string_value(json_object_get(row, "id")),
                              json_string_value(json_object_get(row, "entity"))};
        for (int i = 0; i < 2; i++) {
            int l = keys[i] ? vd_labels_get(labels, keys[i], strlen(keys[i])) : -1;
            if (l >= 0) return l;
        }
        return -1;
    }
    json_t *l = json_object_get(row, "label");
    if (json_is_integer(l)) return json_integer_value(l) ? 1 : 0;
    if (json_is_string(l)) return vd_labels_word(json_string_value(l), json_string_length(l));
    return -1;
}

static int feed(vd_report_t *r, FILE *in, const char *name, const vd_labels_t *labels) {
    char *line = NULL;
    size_t cap = 0, lineno = 0;
    ssize_t n;
    int rc = 0;
    while (rc == 0 && (n = getline(&line, &cap, in)) >= 0) {
        lineno++;
        json_error_t jerr;
        json_t *row = json_loadb(line, (size_t)n, 0, &jerr);
        if (!row) {
            if (strspn(line, " \t\r\n") == (size_t)n) continue;
            fprintf(stderr, "%s:%zu: %s\n", name, lineno, jerr.text);
            rc = 1;
            break;
        }
        json_t *t = json_object_get(row, "time_ms");
        vd_replay_row_t rr = {
            .id = json_string_value(json_object_get(row, "id")),
            .time_ms = json_is_integer(t) ? (int64_t)json_integer_value(t) : VD_REPLAY_NO_TIME,
            .pipeline = json_string_value(json_object_get(row, "pipeline")),
            .label = row_label(row, labels),
        };
        side_buf_t b[2] = {{.reasons = NULL}, {.reasons = NULL}};
        read_side(json_object_get(row, "before"), &rr.before, &b[0]);
        read_side(json_object_get(row, "after"), &rr.after, &b[1]);
        int err = vd_report_add(r, &rr);
        if (err) {
            fprintf(stderr, "%s:%zu: %s\n", name, lineno, vd_strerror(err));
            rc = 1;
        }
        free(b[0].reasons);
        free(b[1].reasons);
        json_decref(row);
    }
    free(line);
    return rc;
}

static int usage(void) {
    fputs("usage: vd-report-rows [--format text|json|html] [--labels FILE] [--samples N]\n"
          "                      [--reservoir N] [--before NAME] [--after NAME] [FILE...]\n",
          stderr);
    return 2;
}

int main(int argc, char **argv) {
    static const struct option longopts[] = {{"format", required_argument, NULL, 'f'},
                                             {"labels", required_argument, NULL, 'l'},
                                             {"samples", required_argument, NULL, 's'},
                                             {"reservoir", required_argument, NULL, 'r'},
                                             {"before", required_argument, NULL, 'b'},
                                             {"after", required_argument, NULL, 'a'},
                                             {NULL, 0, NULL, 0}};
    const char *format = "text", *labels_path = NULL;
    vd_report_opts_t opts = {.before_name = "recorded", .after_name = "candidate"};
    int c;
    while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
        switch (c) {
        case 'f':
            format = optarg;
            break;
        case 'l':
            labels_path = optarg;
            break;
        case 's':
            opts.samples = strtoull(optarg, NULL, 10) ?: VD_REPORT_NO_SAMPLES;
            break;
        case 'r':
            opts.reservoir = strtoull(optarg, NULL, 10) ?: VD_REPORT_NO_SAMPLES;
            break;
        case 'b':
            opts.before_name = optarg;
            break;
        case 'a':
            opts.after_name = optarg;
            break;
        default:
            return usage();
        }
    }
    if (strcmp(format, "text") != 0 && strcmp(format, "json") != 0 && strcmp(format, "html") != 0)
        return usage();
    vd_labels_t *labels = NULL;
    if (labels_path) {
        char err[512];
        labels = vd_labels_new();
        if (!labels || vd_labels_load(labels, labels_path, err, sizeof err) != 0) {
            fprintf(stderr, "vd-report-rows: %s\n", labels ? err : "out of memory");
            vd_labels_free(labels);
            return 1;
        }
    }
    vd_report_t *r = vd_report_new(&opts);
    int rc = r ? 0 : 1;
    for (int i = optind; rc == 0 && i < argc; i++) {
        FILE *f = fopen(argv[i], "r");
        if (!f) {
            perror(argv[i]);
            rc = 1;
            break;
        }
        rc = feed(r, f, argv[i], labels);
        fclose(f);
    }
    if (rc == 0 && optind == argc) rc = feed(r, stdin, "-", labels);
    if (rc == 0) {
        int err = strcmp(format, "json") == 0   ? vd_report_write_json(r, stdout)
                  : strcmp(format, "html") == 0 ? vd_report_write_html(r, stdout)
                                                : vd_report_write_text(r, stdout);
        if (err) {
            fprintf(stderr, "vd-report-rows: %s\n", vd_strerror(err));
            rc = 1;
        }
    }
    vd_report_free(r);
    vd_labels_free(labels);
    return rc;
}
