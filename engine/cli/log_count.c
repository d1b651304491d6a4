#include "log_count.h"

#include "log_render.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

static int same(const char *have, size_t len, vd_log_str_t s) {
    return have ? vd_log_str_eq(s, have, len) : s.p == NULL;
}

static int is_row(const vd_log_count_row_t *r, vd_log_str_t pipeline, vd_log_str_t action) {
    return same(r->pipeline, r->pipeline_len, pipeline) && same(r->action, r->action_len, action);
}

static char *copy(vd_log_str_t s) {
    if (!s.p) return NULL;
    char *c = malloc(s.n + 1);
    if (c) {
        memcpy(c, s.p, s.n);
        c[s.n] = '\0';
    }
    return c;
}

static int new_row(vd_log_count_t *c, vd_log_str_t pipeline, vd_log_str_t action) {
    if (c->n == c->cap) {
        size_t cap = c->cap ? c->cap * 2 : 16;
        vd_log_count_row_t *more = realloc(c->rows, cap * sizeof *more);
        if (!more) return -1;
        c->rows = more;
        c->cap = cap;
    }
    vd_log_count_row_t r = {copy(pipeline), copy(action), pipeline.n, action.n, 0};
    if ((pipeline.p && !r.pipeline) || !r.action) {
        free(r.pipeline);
        free(r.action);
        return -1;
    }
    c->rows[c->n] = r;
    c->last = c->n++;
    return 0;
}

int vd_log_count_add(vd_log_count_t *c, const vd_log_rec_t *rec) {
    vd_log_str_t pipeline = rec->type.p ? (vd_log_str_t){NULL, 0} : rec->pipeline;
    vd_log_str_t action = rec->type.p ? rec->type : rec->action;
    if (c->n == 0 || !is_row(&c->rows[c->last], pipeline, action)) {
        size_t i = 0;
        while (i < c->n && !is_row(&c->rows[i], pipeline, action))
            i++;
        if (i < c->n)
            c->last = i;
        else if (new_row(c, pipeline, action))
            return -1;
    }
    c->rows[c->last].n++;
    c->total++;
    return 0;
}

/* Typed lines last, then by pipeline and action (bytewise). */
static int bytes_cmp(const char *a, size_t an, const char *b, size_t bn) {
    int c = memcmp(a, b, an < bn ? an : bn);
    return c ? c : (an > bn) - (an < bn);
}

static int row_cmp(const void *a, const void *b) {
    const vd_log_count_row_t *x = a, *y = b;
    if (!x->pipeline != !y->pipeline) return x->pipeline ? -1 : 1;
    int c = x->pipeline ? bytes_cmp(x->pipeline, x->pipeline_len, y->pipeline, y->pipeline_len) : 0;
    return c ? c : bytes_cmp(x->action, x->action_len, y->action, y->action_len);
}

/* The rows are sorted: a pipeline's rows follow one another. */
static uint64_t pipeline_total(const vd_log_count_t *c, size_t row) {
    const vd_log_count_row_t *r = &c->rows[row];
    uint64_t n = 0;
    for (size_t i = 0; i < c->n; i++)
        if (c->rows[i].pipeline && c->rows[i].pipeline_len == r->pipeline_len &&
            memcmp(c->rows[i].pipeline, r->pipeline, r->pipeline_len) == 0)
            n += c->rows[i].n;
    return n;
}

static void print_table(const vd_log_count_t *c, FILE *out) {
    size_t pw = 8, aw = 6; /* "pipeline", "action" */
    for (size_t i = 0; i < c->n; i++) {
        const vd_log_count_row_t *r = &c->rows[i];
        size_t p = vd_log_text_width(r->pipeline ? r->pipeline : "(type)",
                                     r->pipeline ? r->pipeline_len : 6);
        size_t a = vd_log_text_width(r->action, r->action_len);
        pw = p > pw ? p : pw;
        aw = a > aw ? a : aw;
    }
    fprintf(out, "%-*s  %-*s  %12s  %6s\n", (int)pw, "pipeline", (int)aw, "action", "records",
            "share");
    for (size_t i = 0; i < c->n; i++) {
        const vd_log_count_row_t *r = &c->rows[i];
        const char *p = r->pipeline ? r->pipeline : "(type)";
        size_t plen = r->pipeline ? r->pipeline_len : 6;
        vd_log_put_text(out, p, plen);
        fprintf(out, "%*s  ", (int)(pw - vd_log_text_width(p, plen)), "");
        vd_log_put_text(out, r->action, r->action_len);
        fprintf(out, "%*s  %12llu", (int)(aw - vd_log_text_width(r->action, r->action_len)), "",
                (unsigned long long)r->n);
        if (r->pipeline)
            fprintf(out, "  %5.1f%%\n", 100.0 * (double)r->n / (double)pipeline_total(c, i));
        else
            fputc('\n', out);
    }
    fprintf(out, "%-*s  %-*s  %12llu\n", (int)pw, "total", (int)aw, "",
            (unsigned long long)c->total);
}

static int print_json(const vd_log_count_t *c, FILE *out) {
    json_t *root = json_object(), *pipelines = json_object(), *types = json_object();
    int rc = root && pipelines && types ? 0 : -1;
    for (size_t i = 0; i < c->n && rc == 0; i++) {
        const vd_log_count_row_t *r = &c->rows[i];
        json_t *into = types;
        if (r->pipeline && !(into = json_object_getn(pipelines, r->pipeline, r->pipeline_len))) {
            into = json_object();
            rc = json_object_setn_new(pipelines, r->pipeline, r->pipeline_len, into);
        }
        if (rc == 0)
            rc = json_object_setn_new(into, r->action, r->action_len,
                                      json_integer((json_int_t)r->n));
    }
    if (rc == 0) rc = json_object_set_new(root, "total", json_integer((json_int_t)c->total));
    if (rc == 0) rc = json_object_set(root, "pipelines", pipelines);
    if (rc == 0 && json_object_size(types)) rc = json_object_set(root, "types", types);
    if (rc == 0) rc = json_dumpf(root, out, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
    if (rc == 0) fputc('\n', out);
    json_decref(pipelines);
    json_decref(types);
    json_decref(root);
    return rc;
}

int vd_log_count_print(vd_log_count_t *c, FILE *out, int json) {
    if (c->n) qsort(c->rows, c->n, sizeof *c->rows, row_cmp);
    c->last = 0;
    if (json) return print_json(c, out);
    print_table(c, out);
    return 0;
}

void vd_log_count_free(vd_log_count_t *c) {
    for (size_t i = 0; i < c->n; i++) {
        free(c->rows[i].pipeline);
        free(c->rows[i].action);
    }
    free(c->rows);
    *c = (vd_log_count_t){0};
}
