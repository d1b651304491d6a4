#include "json_out.h"

#include "replay/escape.h"

#include <assert.h>
#include <inttypes.h>
#include <jansson.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

void vd_jw_init(vd_jw_t *w, FILE *out) {
    memset(w, 0, sizeof *w);
    w->out = out;
}

static void newline(vd_jw_t *w, int depth) {
    fputc('\n', w->out);
    for (int i = 0; i < depth; i++)
        fputs("  ", w->out);
}

/* What comes before a value or a key: a comma and a line break or a space. */
static void item(vd_jw_t *w) {
    if (w->after_key) {
        w->after_key = 0;
        return;
    }
    if (w->depth == 0) return;
    if (w->items[w->depth]) fputc(',', w->out);
    if (w->oneline[w->depth]) {
        if (w->items[w->depth]) fputc(' ', w->out);
    } else {
        newline(w, w->depth);
    }
    w->items[w->depth] = 1;
}

static void begin(vd_jw_t *w, char c, char closer, int oneline) {
    item(w);
    fputc(c, w->out);
    assert(w->depth + 1 < VD_JW_DEPTH);
    int parent = w->depth;
    w->depth++;
    w->items[w->depth] = 0;
    w->closer[w->depth] = closer;
    w->oneline[w->depth] = (unsigned char)(oneline || (parent && w->oneline[parent]));
}

void vd_jw_object(vd_jw_t *w, int oneline) {
    begin(w, '{', '}', oneline);
}

void vd_jw_array(vd_jw_t *w, int oneline) {
    begin(w, '[', ']', oneline);
}

void vd_jw_end(vd_jw_t *w) {
    assert(w->depth > 0);
    int d = w->depth--;
    if (w->items[d] && !w->oneline[d]) newline(w, w->depth);
    fputc(w->closer[d], w->out);
}

void vd_jw_key(vd_jw_t *w, const char *key) {
    item(w);
    fprintf(w->out, "\"%s\": ", key);
    w->after_key = 1;
}

void vd_jw_str(vd_jw_t *w, const char *s) {
    item(w);
    if (s)
        vd_esc_json(w->out, s, strlen(s));
    else
        fputs("null", w->out);
}

void vd_jw_u64(vd_jw_t *w, uint64_t v) {
    item(w);
    fprintf(w->out, "%" PRIu64, v);
}

void vd_jw_i64(vd_jw_t *w, int64_t v) {
    item(w);
    fprintf(w->out, "%" PRId64, v);
}

void vd_jw_format_double(char buf[32], double v) {
    for (int p = 1; p <= 17; p++) {
        snprintf(buf, 32, "%.*g", p, v);
        if (strtod(buf, NULL) == v) return;
    }
}

void vd_jw_num(vd_jw_t *w, double v) {
    item(w);
    if (!isfinite(v)) {
        fputs("null", w->out);
        return;
    }
    char buf[32];
    vd_jw_format_double(buf, v);
    fputs(buf, w->out);
}

void vd_jw_null(vd_jw_t *w) {
    item(w);
    fputs("null", w->out);
}

void vd_jw_json(vd_jw_t *w, const json_t *v) {
    switch (json_typeof(v)) {
    case JSON_OBJECT: {
        const char *key;
        json_t *val;
        vd_jw_object(w, 1);
        json_object_foreach((json_t *)v, key, val) {
            item(w);
            vd_esc_json(w->out, key, strlen(key));
            fputs(": ", w->out);
            w->after_key = 1;
            vd_jw_json(w, val);
        }
        vd_jw_end(w);
        break;
    }
    case JSON_ARRAY: {
        size_t i;
        json_t *val;
        vd_jw_array(w, 1);
        json_array_foreach(v, i, val) vd_jw_json(w, val);
        vd_jw_end(w);
        break;
    }
    case JSON_STRING:
        item(w);
        vd_esc_json(w->out, json_string_value(v), json_string_length(v));
        break;
    case JSON_INTEGER:
        vd_jw_i64(w, (int64_t)json_integer_value(v));
        break;
    case JSON_REAL:
        vd_jw_num(w, json_real_value(v));
        break;
    case JSON_TRUE:
        item(w);
        fputs("true", w->out);
        break;
    case JSON_FALSE:
        item(w);
        fputs("false", w->out);
        break;
    default:
        vd_jw_null(w);
    }
}
