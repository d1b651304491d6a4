/* libFuzzer target: `verdict log`'s record scan (cli/log_scan.c), checked against jansson.
 * The input is one log line. Whatever jansson reads as an object the scan must accept too,
 * and what the scan accepts jansson must read (but for numbers past a double's range, which
 * the scan does not convert); when both read it, the scan must find the same type, id, time,
 * pipeline, actions and fired rules. Then the record goes through the checks and a filter,
 * and short inputs through the time parser. */
#include "cli/log_filter.h"
#include "cli/log_scan.h"
#include "cli/log_time.h"

#include <jansson.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void same_str(vd_log_str_t got, const json_t *want, const char *what) {
    if (!json_is_string(want)) {
        if (got.p) fprintf(stderr, "%s: found a string jansson does not\n", what), abort();
        return;
    }
    if (!vd_log_str_eq(got, json_string_value(want), json_string_length(want)))
        fprintf(stderr, "%s differs from jansson's\n", what), abort();
}

/* The rules the scan found from one place, in order, against those jansson finds there. */
static void same_rules(const vd_log_rec_t *rec, vd_log_rule_from_t from, const json_t *maps,
                       int one_map) {
    size_t k = 0;
    size_t n = one_map ? 1 : json_array_size(maps);
    for (size_t i = 0; i < n; i++) {
        const json_t *m = one_map ? maps : json_array_get(maps, i);
        const json_t *rule = json_is_object(m) ? json_object_get(m, "rule") : NULL;
        if (!json_is_string(rule)) continue;
        while (k < rec->nrules && rec->rules[k].from != from)
            k++;
        if (k == rec->nrules) fprintf(stderr, "a rule is missing\n"), abort();
        same_str(rec->rules[k++].name, rule, "rule");
    }
    for (; k < rec->nrules; k++)
        if (rec->rules[k].from == from) fprintf(stderr, "a rule too many\n"), abort();
}

static void compare(const vd_log_rec_t *rec, const json_t *j) {
    same_str(rec->type, json_object_get(j, "type"), "type");
    same_str(rec->id, json_object_get(j, "id"), "id");
    same_str(rec->time, json_object_get(j, "time"), "time");
    const json_t *d = json_object_get(j, "decision");
    if (!json_is_object(d)) d = NULL;
    if (rec->has_decision != (d != NULL)) fprintf(stderr, "decision differs\n"), abort();
    same_str(rec->action, json_object_get(d, "action"), "action");
    same_str(rec->pipeline, json_object_get(d, "pipeline"), "pipeline");
    same_rules(rec, VD_LOG_LIVE_REASON, json_object_get(d, "reasons"), 0);
    same_rules(rec, VD_LOG_LIVE_STOP, json_object_get(d, "stopped_by"), 1);
    const json_t *sh = json_object_get(d, "shadow");
    if (!json_is_object(sh)) sh = NULL;
    if (rec->has_shadow != (sh != NULL)) fprintf(stderr, "shadow differs\n"), abort();
    same_str(rec->shadow_action, json_object_get(sh, "action"), "shadow action");
    same_rules(rec, VD_LOG_SHADOW_REASON, json_object_get(sh, "reasons"), 0);
    same_rules(rec, VD_LOG_SHADOW_STOP, json_object_get(sh, "stopped_by"), 1);
}

static void filter(vd_log_rec_t *rec) {
    if (vd_log_rec_check(rec)) return;
    vd_log_filter_t f = {0};
    vd_log_names_add(&f.rules, "spammy");
    vd_log_names_add(&f.types, "manifest");
    vd_log_names_add(&f.types, "decision");
    vd_log_filter_add_ids(&f, "01M8NH5B273AZPM2YCXES5GD4K, 01M8NH5B27SAT7X21Z08RFFAY9");
    f.changed_shadow = (int)(rec->time_ms & 1);
    vd_log_filter_ready(&f);
    vd_log_filter_match(&f, rec);
    vd_log_filter_free(&f);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    vd_log_rec_t rec = {0};
    const char *text = (const char *)data;
    int scanned = vd_log_scan(&rec, text, size) == 0;
    json_error_t err;
    json_t *j = json_loadb(text, size, JSON_ALLOW_NUL, &err);
    int object = json_is_object(j);
    if (object && !scanned)
        fprintf(stderr, "jansson reads it, the scan says: %s\n", rec.error), abort();
    if (!j && scanned && !strstr(err.text, "too big") && !strstr(err.text, "overflow"))
        fprintf(stderr, "the scan accepts it, jansson says: %s\n", err.text), abort();
    if (object) compare(&rec, j);
    if (scanned) filter(&rec);
    json_decref(j);
    vd_log_rec_free(&rec);
    if (size < 64) {
        char arg[64];
        memcpy(arg, data, size);
        arg[size] = '\0';
        int64_t ms;
        vd_log_time_arg(arg, 1764480000000, &ms);
    }
    return 0;
}
