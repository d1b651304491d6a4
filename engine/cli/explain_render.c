#include "explain_render.h"

#include <string.h>

static const char *str(const json_t *o, const char *key) {
    const char *s = json_string_value(json_object_get(o, key));
    return s ? s : "";
}

static double num(const json_t *o, const char *key) {
    return json_number_value(json_object_get(o, key));
}

/* A value as a reader expects it: strings quoted, numbers as they are, nil as nil. */
static void put_value(FILE *out, const json_t *v) {
    char *text = json_dumps(v, JSON_ENCODE_ANY | JSON_COMPACT | JSON_REAL_PRECISION(10));
    fputs(text ? text : "?", out);
    free(text);
}

/* A profile read: "profile KEY: 12 events before; country "DE" (share 0.95), device "x" (new);
 * 900 km from the last place in 0.5 h". */
static void put_profile(FILE *out, const json_t *res) {
    const char *name;
    json_t *a;
    int first = 1;
    fprintf(out, ": %lld events before;",
            (long long)json_integer_value(json_object_get(res, "events")));
    json_object_foreach(json_object_get(res, "attrs"), name, a) {
        fprintf(out, "%s %s ", first ? "" : ",", name);
        put_value(out, json_object_get(a, "value"));
        if (json_is_true(json_object_get(a, "new")))
            fputs(" (new)", out);
        else
            fprintf(out, " (share %.2f)", num(a, "share"));
        first = 0;
    }
    const json_t *place = json_object_get(res, "place");
    if (json_is_object(place))
        fprintf(out, "; %.0f km from the last place in %.1f h", num(place, "km"),
                num(place, "hours"));
}

static long long integer(const json_t *o, const char *key) {
    return (long long)json_integer_value(json_object_get(o, key));
}

/* A campaign read: "campaign text:KEY from "SOURCE": 4c1f... (new), 37 items, 12 in the
 * window, 9 in the hour, 31 sources, similarity 0.84" (an exact copy of the first text says
 * no similarity), and its reports when it has some. */
static void put_campaign(FILE *out, const json_t *s, const json_t *res) {
    if (json_object_get(s, "source")) fprintf(out, " from \"%s\"", str(s, "source"));
    if (!json_is_object(res)) {
        fputs(": no campaign", out);
        return;
    }
    fprintf(out, ": %s%s, %lld items, %lld in the window, %lld in the hour, %lld sources",
            str(res, "id"), json_is_true(json_object_get(res, "new")) ? " (new)" : "",
            integer(res, "size"), integer(res, "recent"), integer(res, "growth_1h"),
            integer(res, "sources"));
    if (num(res, "similarity") < 1.0) fprintf(out, ", similarity %.2f", num(res, "similarity"));
    if (num(res, "bad") > 0 || num(res, "good") > 0)
        fprintf(out, ", reports bad %g good %g by %lld reporter%s", num(res, "bad"),
                num(res, "good"), integer(res, "reporters"),
                integer(res, "reporters") == 1 ? "" : "s");
}

/* One state read: "counter KEY +1: 21 minute, 21 hour, 21 day". */
static void put_state(FILE *out, const json_t *s) {
    const char *op = str(s, "op");
    const json_t *res = json_object_get(s, "result");
    fprintf(out, "%s %s", op, str(s, "key"));
    if (strcmp(op, "profile") == 0) {
        put_profile(out, res);
    } else if (strcmp(op, "anomaly") == 0) {
        fprintf(out, ": %s", str(res, "why"));
    } else if (strcmp(op, "campaign") == 0) {
        put_campaign(out, s, res);
    } else if (strcmp(op, "counter") == 0) {
        static const char *const windows[] = {"minute", "hour", "day"};
        fprintf(out, " +%lld:", (long long)json_integer_value(json_object_get(s, "n")));
        for (size_t i = 0; i < json_array_size(res) && i < 3; i++)
            fprintf(out, "%s %lld %s", i ? "," : "",
                    (long long)json_integer_value(json_array_get(res, i)), windows[i]);
    } else if (strcmp(op, "distinct") == 0) {
        if (json_object_get(s, "value")) fprintf(out, " + \"%s\"", str(s, "value"));
        fprintf(out, ": about %lld distinct", (long long)json_integer_value(res));
    } else if (json_is_null(res)) {
        fputs(": not set", out);
    } else {
        fprintf(out, ": set, %lld s left", (long long)json_integer_value(res));
    }
}

/* The "read" lines of a rule: its features, then its state reads. */
static void put_reads(FILE *out, const json_t *read, int indent) {
    const char *name;
    json_t *v;
    const json_t *features = json_object_get(read, "features");
    json_object_foreach((json_t *)features, name, v) {
        fprintf(out, "%*sread %s = ", indent, "", name);
        put_value(out, v);
        fputc('\n', out);
    }
    size_t i;
    json_array_foreach(json_object_get(read, "state"), i, v) {
        fprintf(out, "%*sread ", indent, "");
        put_state(out, v);
        fputc('\n', out);
    }
    json_array_foreach(json_object_get(read, "lookups"), i, v) {
        fprintf(out, "%*slooked up ", indent, "");
        put_value(out, json_object_get(v, "value"));
        fprintf(out, " in %s: %s", str(v, "in"),
                json_is_true(json_object_get(v, "hit")) ? "yes" : "no");
        if (json_object_get(v, "entry")) fprintf(out, " (%s)", str(v, "entry"));
        fputc('\n', out);
    }
}

/* What a plugin stage's call gave: the features it set, its scores and tags. */
static void put_outputs(FILE *out, const json_t *outputs, int indent) {
    size_t i;
    json_t *o;
    json_array_foreach(outputs, i, o) {
        fprintf(out, "%*s", indent, "");
        if (json_object_get(o, "feature")) {
            fprintf(out, "set %s = ", str(o, "feature"));
            put_value(out, json_object_get(o, "value"));
        } else if (json_object_get(o, "score")) {
            fprintf(out, "score %+g %s", num(o, "score"), str(o, "rule"));
            if (json_object_get(o, "detail")) fprintf(out, ": %s", str(o, "detail"));
        } else if (json_object_get(o, "tag")) {
            fprintf(out, "tag %s", str(o, "tag"));
        } else if (json_object_get(o, "fault")) {
            fprintf(out, "fault: %s", str(o, "fault"));
        }
        fputc('\n', out);
    }
}

static const char *status_of(const json_t *r, int plugin) {
    if (json_object_get(r, "skipped")) return "not run";
    if (json_object_get(r, "error")) return "FAULT";
    if (json_object_get(r, "stop")) return "STOP";
    if (plugin) return "done";
    return json_is_true(json_object_get(r, "fired")) ? "fired" : "-";
}

/* The widest rule name of the trace, for the name column. */
static int name_width(const json_t *trace) {
    size_t i, k, w = 4;
    json_t *st, *r;
    json_array_foreach(trace, i, st) {
        json_array_foreach(json_object_get(st, "rules"), k, r) {
            size_t n = strlen(str(r, "rule"));
            if (n > w) w = n;
        }
    }
    return (int)(w > 40 ? 40 : w);
}

static void put_rule(FILE *out, const json_t *r, int plugin, int width) {
    const char *status = status_of(r, plugin);
    int fired = json_is_true(json_object_get(r, "fired"));
    fprintf(out, "  %-7s ", status);
    if (fired || (plugin && num(r, "score") != 0))
        fprintf(out, "%+7g  ", num(r, "score"));
    else
        fprintf(out, "%7s  ", "");
    int more = json_object_get(r, "detail") || json_object_get(r, "stop");
    fprintf(out, "%-*s", more ? width : 0, str(r, "rule"));
    if (json_object_get(r, "detail")) fprintf(out, "  %s", str(r, "detail"));
    if (json_object_get(r, "stop")) fprintf(out, "  (stops with '%s')", str(r, "stop"));
    fputc('\n', out);
    int indent = 2 + 8 + 9;
    if (json_object_get(r, "description"))
        fprintf(out, "%*s%s\n", indent, "", str(r, "description"));
    if (json_object_get(r, "error")) fprintf(out, "%*serror: %s\n", indent, "", str(r, "error"));
    if (json_object_get(r, "skipped"))
        fprintf(out, "%*snot run: %s\n", indent, "", str(r, "skipped"));
    if (plugin)
        put_outputs(out, json_object_get(r, "outputs"), indent);
    else
        put_reads(out, json_object_get(r, "read"), indent);
}

static void put_stage(FILE *out, const json_t *st, int width) {
    int plugin = json_object_get(st, "plugin") != NULL;
    fprintf(out, "\nstage %s", str(st, "stage"));
    if (plugin) fprintf(out, " (plugin %s)", str(st, "plugin"));
    if (json_is_true(json_object_get(st, "shadow")))
        fputs(" [shadow: does not change the action]", out);
    if (json_object_get(st, "skipped"))
        fprintf(out, ": not run (%s)\n", str(st, "skipped"));
    else
        fprintf(out, ": score %+g, %.0f us\n", num(st, "score"), num(st, "elapsed_us"));
    if (json_object_get(st, "description")) fprintf(out, "  %s\n", str(st, "description"));
    if (json_object_get(st, "skipped")) return; /* its rules say the same, once each */
    size_t k;
    json_t *r;
    json_array_foreach(json_object_get(st, "rules"), k, r) put_rule(out, r, plugin, width);
}

/* "  tags: a, b" and "  features: k = v, ..." of the live outcome, when it has any. */
static void put_tags_features(FILE *out, const json_t *result) {
    size_t i;
    json_t *v;
    const char *name;
    const json_t *tags = json_object_get(result, "tags"), *features;
    if (json_array_size(tags)) {
        fputs("  tags:", out);
        json_array_foreach(tags, i, v) fprintf(out, "%s %s", i ? "," : "", json_string_value(v));
        fputc('\n', out);
    }
    features = json_object_get(result, "features");
    if (json_object_size(features)) {
        int first = 1;
        fputs("  features:", out);
        json_object_foreach((json_t *)features, name, v) {
            fprintf(out, "%s %s = ", first ? "" : ",", name);
            put_value(out, v);
            first = 0;
        }
        fputc('\n', out);
    }
}

static void put_why(FILE *out, const json_t *result, const json_t *why) {
    fprintf(out, "%s: %s, score %g (decision %s, policy %s, %lld us)\n", str(result, "pipeline"),
            str(result, "action"), num(result, "score"),
            json_object_get(result, "id") ? str(result, "id") : "-", str(result, "policy"),
            (long long)json_integer_value(json_object_get(result, "elapsed_us")));
    fprintf(out, "  because %s\n  thresholds:", str(why, "because"));
    size_t i;
    json_t *b;
    json_array_foreach(json_object_get(why, "thresholds"), i, b)
        fprintf(out, "%s %s from %g", i ? "," : "", str(b, "action"), num(b, "at"));
    fprintf(out, "%s below them: %s\n",
            json_array_size(json_object_get(why, "thresholds")) ? ";" : "", str(why, "default"));
    const json_t *shadow = json_object_get(why, "shadow");
    if (shadow)
        fprintf(out, "  with the shadow stages: %s, score %g, because %s%s\n",
                str(shadow, "action"), num(shadow, "score"), str(shadow, "because"),
                strcmp(str(shadow, "action"), str(result, "action")) ? " (a different action)"
                                                                     : "");
    put_tags_features(out, result);
    const json_t *faults = json_object_get(result, "faults");
    if (json_array_size(faults))
        fprintf(out, "  %zu fault(s): the rules that failed counted nothing (below)\n",
                json_array_size(faults));
}

int vd_cli_explain_render(FILE *out, const json_t *result) {
    const json_t *trace = json_object_get(result, "trace"), *why = json_object_get(result, "why");
    if (!json_is_array(trace) || !json_is_object(why)) return -1;
    put_why(out, result, why);
    int width = name_width(trace);
    size_t i;
    json_t *st;
    json_array_foreach(trace, i, st) put_stage(out, st, width);
    return 0;
}
