#include "log_filter.h"

#include <stdlib.h>
#include <string.h>

static int add(vd_log_names_t *names, const char *p, size_t n) {
    if (names->n == names->cap) {
        size_t cap = names->cap ? names->cap * 2 : 8;
        vd_log_str_t *more = realloc(names->v, cap * sizeof *more);
        if (!more) return -1;
        names->v = more;
        names->cap = cap;
    }
    names->v[names->n++] = (vd_log_str_t){p, n};
    return 0;
}

int vd_log_names_add(vd_log_names_t *names, const char *name) {
    return add(names, name, strlen(name));
}

int vd_log_filter_add_ids(vd_log_filter_t *f, const char *text) {
    int added = 0;
    for (const char *p = text; *p;) {
        size_t n = strcspn(p, ", \t\r\n");
        if (n > 0) {
            if (add(&f->ids, p, n)) return -1;
            added++;
        }
        p += n + (p[n] != '\0');
    }
    return added;
}

static int str_cmp(const void *a, const void *b) {
    const vd_log_str_t *x = a, *y = b;
    int c = memcmp(x->p, y->p, x->n < y->n ? x->n : y->n);
    return c ? c : (x->n > y->n) - (x->n < y->n);
}

void vd_log_filter_ready(vd_log_filter_t *f) {
    if (f->ids.n) qsort(f->ids.v, f->ids.n, sizeof *f->ids.v, str_cmp);
    f->decisions = f->types.n == 0;
    for (size_t i = 0; i < f->types.n; i++)
        f->decisions |= vd_log_str_eq(f->types.v[i], "decision", 8);
}

static int any(const vd_log_names_t *names, vd_log_str_t s) {
    for (size_t i = 0; i < names->n; i++)
        if (vd_log_str_eq(s, names->v[i].p, names->v[i].n)) return 1;
    return 0;
}

static int fired(const vd_log_names_t *names, const vd_log_rec_t *rec) {
    for (size_t i = 0; i < rec->nrules; i++)
        if (any(names, rec->rules[i].name)) return 1;
    return 0;
}

static int shadow_changed(const vd_log_rec_t *rec) {
    const vd_log_str_t *a = &rec->action, *s = &rec->shadow_action;
    return rec->has_shadow && s->p && !vd_log_str_eq(*s, a->p, a->n);
}

/* A typed line (a manifest, a report) matches its type and the filters it can answer: time,
 * pipeline and id, when it has them; the filters only a decision answers leave it out. */
static int typed_match(const vd_log_filter_t *f, const vd_log_rec_t *rec) {
    if (!any(&f->types, rec->type)) return 0;
    if ((f->has_since || f->has_until) && !rec->has_time) return 0;
    if (f->has_since && rec->time_ms < f->since_ms) return 0;
    if (f->has_until && rec->time_ms >= f->until_ms) return 0;
    if (f->pipelines.n && !(rec->pipeline.p && any(&f->pipelines, rec->pipeline))) return 0;
    if (f->ids.n && /* a report line: its own id, or the decision it reports */
        !(rec->id.p && bsearch(&rec->id, f->ids.v, f->ids.n, sizeof *f->ids.v, str_cmp)) &&
        !(rec->decision_id.p &&
          bsearch(&rec->decision_id, f->ids.v, f->ids.n, sizeof *f->ids.v, str_cmp)))
        return 0;
    return !f->actions.n && !f->shadow_actions.n && !f->changed_shadow && !f->rules.n;
}

int vd_log_filter_match(const vd_log_filter_t *f, const vd_log_rec_t *rec) {
    if (rec->type.p) return typed_match(f, rec);
    if (!f->decisions) return 0;
    if (f->has_since && rec->time_ms < f->since_ms) return 0;
    if (f->has_until && rec->time_ms >= f->until_ms) return 0;
    if (f->pipelines.n && !any(&f->pipelines, rec->pipeline)) return 0;
    if (f->actions.n && !any(&f->actions, rec->action)) return 0;
    if (f->shadow_actions.n && !(rec->has_shadow && any(&f->shadow_actions, rec->shadow_action)))
        return 0;
    if (f->changed_shadow && !shadow_changed(rec)) return 0;
    if (f->ids.n && !bsearch(&rec->id, f->ids.v, f->ids.n, sizeof *f->ids.v, str_cmp)) return 0;
    return !f->rules.n || fired(&f->rules, rec);
}

void vd_log_filter_free(vd_log_filter_t *f) {
    vd_log_names_t *all[] = {&f->pipelines, &f->actions, &f->shadow_actions,
                             &f->rules,     &f->ids,     &f->types};
    for (size_t i = 0; i < sizeof all / sizeof *all; i++)
        free(all[i]->v);
    *f = (vd_log_filter_t){0};
}
