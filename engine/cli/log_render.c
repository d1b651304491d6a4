#include "log_render.h"

#include "base/utf8.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#define EVENT_WIDTH 120 /* the event's JSON is cut after this many bytes */

typedef struct pen {
    FILE *out;
    int color;
} pen_t;

enum { C_RESET, C_BOLD, C_DIM, C_RED, C_GREEN, C_YELLOW, C_MAGENTA, C_CYAN };
static const char *const sgr[] = {"\033[0m",  "\033[1m",  "\033[2m",  "\033[31m",
                                  "\033[32m", "\033[33m", "\033[35m", "\033[36m"};

static void paint(const pen_t *pen, int c) {
    if (pen->color) fputs(sgr[c], pen->out);
}

void vd_log_put_text(FILE *out, const char *s, size_t n) {
    size_t from = 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c >= 0x20 && c != 0x7f) continue;
        fwrite(s + from, 1, i - from, out);
        fputc('?', out);
        from = i + 1;
    }
    fwrite(s + from, 1, n - from, out);
}

size_t vd_log_text_width(const char *s, size_t n) {
    size_t w = 0;
    for (size_t i = 0; i < n; i++)
        w += ((unsigned char)s[i] & 0xc0) != 0x80;
    return w;
}

/* A string value as text, padded to width columns; anything else as compact JSON. */
static void put_value(const pen_t *pen, const json_t *v, size_t width) {
    size_t w = 0;
    if (json_is_string(v)) {
        size_t n = json_string_length(v);
        vd_log_put_text(pen->out, json_string_value(v), n);
        w = vd_log_text_width(json_string_value(v), n);
    } else if (v) {
        char *s = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
        if (s) {
            vd_log_put_text(pen->out, s, strlen(s));
            w = vd_log_text_width(s, strlen(s));
        }
        free(s);
    }
    for (; w < width; w++)
        fputc(' ', pen->out);
}

static size_t value_width(const json_t *v) {
    return json_is_string(v) ? vd_log_text_width(json_string_value(v), json_string_length(v)) : 0;
}

static int action_color(const char *a) {
    static const char *const good[] = {"allow", "deliver", "accept", "pass", "ok", NULL};
    static const char *const bad[] = {"block", "reject", "deny", "drop", "ban", NULL};
    for (int i = 0; good[i]; i++)
        if (strcmp(a, good[i]) == 0) return C_GREEN;
    for (int i = 0; bad[i]; i++)
        if (strcmp(a, bad[i]) == 0) return C_RED;
    return C_YELLOW;
}

static void put_score(const pen_t *pen, const char *fmt, const json_t *v) {
    if (json_is_number(v))
        fprintf(pen->out, fmt, json_number_value(v));
    else
        fputs("?", pen->out);
}

/* "block 12": the action (coloured by what it does) and the score. */
static void put_outcome(const pen_t *pen, const json_t *d) {
    const json_t *action = json_object_get(d, "action");
    paint(pen, C_BOLD);
    if (pen->color && json_is_string(action)) paint(pen, action_color(json_string_value(action)));
    put_value(pen, action, 0);
    paint(pen, C_RESET);
    fputc(' ', pen->out);
    put_score(pen, "%g", json_object_get(d, "score"));
}

static void label(const pen_t *pen, const char *name) {
    fprintf(pen->out, "  %-9s", name);
}

static void format_score(char *buf, size_t size, const json_t *score) {
    if (json_is_number(score))
        snprintf(buf, size, "%+g", json_number_value(score));
    else
        snprintf(buf, size, "?");
}

/* One line per reason: "+4  stage  rule  detail", the columns aligned within the list. */
static void put_reasons(const pen_t *pen, const char *name, const json_t *reasons) {
    size_t scw = 0, sw = 0, rw = 0, i;
    const json_t *r;
    char score[32];
    json_array_foreach(reasons, i, r) {
        format_score(score, sizeof score, json_object_get(r, "score"));
        size_t s = value_width(json_object_get(r, "stage"));
        size_t n = value_width(json_object_get(r, "rule"));
        scw = strlen(score) > scw ? strlen(score) : scw;
        sw = s > sw ? s : sw;
        rw = n > rw ? n : rw;
    }
    json_array_foreach(reasons, i, r) {
        label(pen, i ? "" : name);
        format_score(score, sizeof score, json_object_get(r, "score"));
        fprintf(pen->out, "%*s  ", (int)scw, score);
        put_value(pen, json_object_get(r, "stage"), sw);
        fputs("  ", pen->out);
        paint(pen, C_BOLD);
        put_value(pen, json_object_get(r, "rule"), 0);
        paint(pen, C_RESET);
        const json_t *detail = json_object_get(r, "detail");
        if (detail) {
            fprintf(pen->out, "%*s  ", (int)(rw - value_width(json_object_get(r, "rule"))), "");
            put_value(pen, detail, 0);
        }
        fputc('\n', pen->out);
    }
}

static void put_list(const pen_t *pen, const char *name, const json_t *items) {
    if (!json_array_size(items)) return;
    label(pen, name);
    size_t i;
    const json_t *v;
    json_array_foreach(items, i, v) {
        if (i) fputs(", ", pen->out);
        put_value(pen, v, 0);
    }
    fputc('\n', pen->out);
}

static void put_stop(const pen_t *pen, const json_t *stop) {
    if (!json_is_object(stop)) return;
    label(pen, "stopped");
    put_value(pen, json_object_get(stop, "rule"), 0);
    fputs(" -> ", pen->out);
    put_value(pen, json_object_get(stop, "action"), 0);
    fputc('\n', pen->out);
}

static void put_faults(const pen_t *pen, const json_t *faults) {
    size_t i;
    const json_t *f;
    json_array_foreach(faults, i, f) {
        label(pen, i ? "" : "faults");
        paint(pen, C_RED);
        put_value(pen, json_object_get(f, "stage"), 0);
        fputc('/', pen->out);
        put_value(pen, json_object_get(f, "rule"), 0);
        fputs(": ", pen->out);
        put_value(pen, json_object_get(f, "message"), 0);
        paint(pen, C_RESET);
        fputc('\n', pen->out);
    }
}

/* The event as compact JSON, cut (at a character boundary) to keep to one line. */
static void put_event(const pen_t *pen, const json_t *event) {
    char *s =
        event ? json_dumps(event, JSON_COMPACT | JSON_ENCODE_ANY | JSON_PRESERVE_ORDER) : NULL;
    if (!s) return;
    size_t n = strlen(s), cut = vd_utf8_cut(s, n, EVENT_WIDTH);
    label(pen, "event");
    paint(pen, C_DIM);
    vd_log_put_text(pen->out, s, cut);
    if (cut < n) fputs("...", pen->out);
    paint(pen, C_RESET);
    fputc('\n', pen->out);
    free(s);
}

static int same_string(const json_t *a, const json_t *b) {
    return json_is_string(a) && json_is_string(b) && json_equal(a, b);
}

/* The shadow outcome when it says something the live one does not: another action, or
 * reasons or a stop of its own. */
static void put_shadow(const pen_t *pen, const json_t *d) {
    const json_t *sh = json_object_get(d, "shadow");
    if (!json_is_object(sh)) return;
    int changed = !same_string(json_object_get(sh, "action"), json_object_get(d, "action"));
    if (!changed && !json_array_size(json_object_get(sh, "reasons")) &&
        !json_object_get(sh, "stopped_by"))
        return;
    label(pen, "shadow");
    paint(pen, C_MAGENTA);
    put_outcome(pen, sh);
    paint(pen, C_MAGENTA);
    fputs(changed ? "  (live: " : "  (same action as live: ", pen->out);
    put_outcome(pen, d);
    paint(pen, C_MAGENTA);
    fputs(")", pen->out);
    paint(pen, C_RESET);
    fputc('\n', pen->out);
    put_reasons(pen, "", json_object_get(sh, "reasons"));
    put_stop(pen, json_object_get(sh, "stopped_by"));
}

static void put_decision(const pen_t *pen, const json_t *rec) {
    const json_t *d = json_object_get(rec, "decision");
    paint(pen, C_CYAN);
    put_value(pen, json_object_get(rec, "time"), 0);
    paint(pen, C_RESET);
    fputs("  ", pen->out);
    paint(pen, C_DIM);
    put_value(pen, json_object_get(rec, "id"), 0);
    paint(pen, C_RESET);
    fputs("  ", pen->out);
    put_value(pen, json_object_get(d, "pipeline"), 0);
    fputs("  ", pen->out);
    put_outcome(pen, d);
    paint(pen, C_DIM);
    fputs("  policy ", pen->out);
    put_value(pen, json_object_get(d, "policy"), 0);
    put_score(pen, ", %g us", json_object_get(d, "elapsed_us"));
    paint(pen, C_RESET);
    fputc('\n', pen->out);
    put_event(pen, json_object_get(rec, "event"));
    put_reasons(pen, "reasons", json_object_get(d, "reasons"));
    put_list(pen, "tags", json_object_get(d, "tags"));
    put_stop(pen, json_object_get(d, "stopped_by"));
    put_faults(pen, json_object_get(d, "faults"));
    put_shadow(pen, d);
}

/* A report line: who said what of which decision or event, the outcome and the campaigns.
 *   2026-11-30T09:39:53.020Z  01M8NX6E...  signup  report bad by ops (weight 1): applied
 *     decision  01M8NX6ED4...
 *     campaign  fields 4ae00f22e31a9b00: 3 items, bad 1 from 1 person, good 0 */
static void put_report(const pen_t *pen, const json_t *rec) {
    put_value(pen, json_object_get(rec, "time"), 0);
    fputs("  ", pen->out);
    paint(pen, C_DIM);
    put_value(pen, json_object_get(rec, "id"), 0);
    paint(pen, C_RESET);
    fputs("  ", pen->out);
    put_value(pen, json_object_get(rec, "pipeline"), 0);
    fputs("  ", pen->out);
    paint(pen, C_BOLD);
    fputs("report ", pen->out);
    put_value(pen, json_object_get(rec, "label"), 0);
    paint(pen, C_RESET);
    const json_t *who = json_object_get(rec, "reporter");
    fputs(" by ", pen->out);
    if (json_is_string(who))
        put_value(pen, who, 0);
    else
        fputs("anonymous", pen->out);
    put_score(pen, " (weight %g)", json_object_get(rec, "weight"));
    fputs(": ", pen->out);
    put_value(pen, json_object_get(rec, "outcome"), 0);
    fputc('\n', pen->out);
    const json_t *id = json_object_get(rec, "decision_id");
    if (id) {
        label(pen, "decision");
        put_value(pen, id, 0);
        fputc('\n', pen->out);
    } else {
        put_event(pen, json_object_get(rec, "event"));
    }
    size_t i;
    const json_t *c;
    json_array_foreach(json_object_get(rec, "campaigns"), i, c) {
        label(pen, "campaign");
        put_value(pen, json_object_get(c, "kind"), 0);
        fputc(' ', pen->out);
        put_value(pen, json_object_get(c, "id"), 0);
        if (!json_is_true(json_object_get(c, "found"))) {
            fputs(": gone (expired or evicted)\n", pen->out);
            continue;
        }
        const json_t *people = json_object_get(c, "reporters");
        put_score(pen, ": %g items", json_object_get(c, "size"));
        put_score(pen, ", bad %g", json_object_get(c, "bad"));
        put_score(pen, " from %g", people);
        fputs(json_number_value(people) == 1 ? " person" : " people", pen->out);
        put_score(pen, ", good %g\n", json_object_get(c, "good"));
    }
}

int vd_log_render(FILE *out, const char *line, size_t len, int color, char *err, size_t errlen) {
    json_error_t jerr;
    json_t *rec = json_loadb(line, len, JSON_ALLOW_NUL, &jerr);
    if (!rec) {
        snprintf(err, errlen, "column %d: %s", jerr.column, jerr.text);
        return -1;
    }
    pen_t pen = {out, color};
    const json_t *type = json_object_get(rec, "type");
    if (json_is_string(type) && strcmp(json_string_value(type), "report") == 0) {
        put_report(&pen, rec);
    } else if (type) {
        paint(&pen, C_BOLD);
        put_value(&pen, type, 0);
        paint(&pen, C_RESET);
        fputs("  ", out);
        put_value(&pen, rec, 0);
        fputc('\n', out);
    } else {
        put_decision(&pen, rec);
    }
    fputc('\n', out);
    json_decref(rec);
    return 0;
}
