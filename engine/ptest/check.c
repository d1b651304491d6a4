#include "check.h"

#include "put.h"

#include <math.h>
#include <string.h>

typedef struct checker {
    const vd_ptest_case_t *c;
    const vd_decision_t *d;
    FILE *out;
    vd_ptest_findings_t *found;
} checker_t;

/* Starts a failure at line of the test file: "  file:line: what: ". */
static FILE *fail(checker_t *k, int line, const char *what) {
    fprintf(k->out, "  %s:%d: %s: ", k->c->file, line, what);
    return k->out;
}

/* Ends the failure started by fail(). */
static void done(checker_t *k) {
    fputc('\n', k->out);
    k->found->failed++;
}

static int close_to(double got, double want) {
    return fabs(got - want) <= 1e-9 * fmax(1.0, fabs(want));
}

static int in_range(double v, double min, double max) {
    return min == max ? close_to(v, min) : v >= min && v <= max;
}

static void put_range(FILE *out, double min, double max) {
    if (min == max) {
        vd_ptest_put_number(out, min, 0);
    } else if (isinf(max)) {
        fputs("at least ", out);
        vd_ptest_put_number(out, min, 0);
    } else if (isinf(min)) {
        fputs("at most ", out);
        vd_ptest_put_number(out, max, 0);
    } else {
        vd_ptest_put_number(out, min, 0);
        fputs(" to ", out);
        vd_ptest_put_number(out, max, 0);
    }
}

static int same(const char *a, const char *b) {
    return a && b && strcmp(a, b) == 0;
}

static void check_text(checker_t *k, const char *want, const char *got, int line,
                       const char *what) {
    if (!want || same(want, got)) return;
    FILE *out = fail(k, line, what);
    fputs("want ", out);
    vd_ptest_put(out, want);
    fputs(", got ", out);
    vd_ptest_put(out, got ? got : "none");
    done(k);
}

/* The reason rule gave, on either side (a shadow rule fires in the shadow outcome). */
static const vd_reason_t *reason_of(const vd_decision_t *d, const char *rule) {
    const vd_outcome_t *sides[2] = {&d->main, &d->shadow};
    for (int s = 0; s < 2; s++)
        for (uint32_t i = 0; i < sides[s]->reasons.len; i++) {
            const vd_reason_t *r = &VD_VEC_AT(sides[s]->reasons, vd_reason_t, i);
            if (strcmp(r->rule, rule) == 0) return r;
        }
    return NULL;
}

static void check_fired(checker_t *k) {
    const vd_ptest_names_t *want = &k->c->expect.fired, *unwanted = &k->c->expect.not_fired;
    for (uint32_t i = 0; i < want->items.len; i++) {
        const vd_ptest_name_t *n = &VD_VEC_AT(want->items, vd_ptest_name_t, i);
        if (reason_of(k->d, n->name)) continue;
        vd_ptest_put(fail(k, n->line, "fired"), n->name);
        fputs(" did not fire", k->out);
        done(k);
    }
    for (uint32_t i = 0; i < unwanted->items.len; i++) {
        const vd_ptest_name_t *n = &VD_VEC_AT(unwanted->items, vd_ptest_name_t, i);
        const vd_reason_t *r = reason_of(k->d, n->name);
        if (!r) continue;
        FILE *out = fail(k, n->line, "not_fired");
        vd_ptest_put(out, n->name);
        fputs(" fired (", out);
        vd_ptest_put_number(out, r->score, 1);
        fputs(", stage ", out);
        vd_ptest_put(out, r->stage);
        fputc(')', out);
        done(k);
    }
}

static int has_tag(const vd_decision_t *d, const char *tag) {
    for (uint32_t i = 0; i < d->main.tags.len; i++)
        if (strcmp(VD_VEC_AT(d->main.tags, const char *, i), tag) == 0) return 1;
    return 0;
}

static void check_tags(checker_t *k) {
    const vd_ptest_names_t *lists[2] = {&k->c->expect.tags, &k->c->expect.not_tags};
    for (int want = 1; want >= 0; want--)
        for (uint32_t i = 0; i < lists[!want]->items.len; i++) {
            const vd_ptest_name_t *n = &VD_VEC_AT(lists[!want]->items, vd_ptest_name_t, i);
            if (has_tag(k->d, n->name) == want) continue;
            FILE *out = fail(k, n->line, want ? "tags" : "not_tags");
            fputs(want ? "no tag " : "tagged ", out);
            vd_ptest_put(out, n->name);
            k->found->tags = 1;
            done(k);
        }
}

static void put_want(FILE *out, const vd_ptest_value_t *w) {
    switch (w->kind) {
    case VD_PTEST_BOOL:
        fputs(w->b ? "true" : "false", out);
        break;
    case VD_PTEST_NUMBER:
        put_range(out, w->min, w->max);
        break;
    case VD_PTEST_STRING:
        fputc('"', out);
        vd_ptest_put_n(out, w->s, w->len);
        fputc('"', out);
        break;
    default:
        fputs("absent", out);
    }
}

static int matches(const vd_ptest_value_t *w, const vd_feature_t *f) {
    if (!f || f->value.type == VD_VAL_NIL) return w->kind == VD_PTEST_ABSENT;
    const vd_value_t *v = &f->value;
    switch (w->kind) {
    case VD_PTEST_BOOL:
        return v->type == VD_VAL_BOOL && !v->u.b == !w->b;
    case VD_PTEST_NUMBER:
        return (v->type == VD_VAL_INT && in_range((double)v->u.i, w->min, w->max)) ||
               (v->type == VD_VAL_NUM && in_range(v->u.n, w->min, w->max));
    case VD_PTEST_STRING:
        return v->type == VD_VAL_STR && v->u.s.len == w->len &&
               memcmp(v->u.s.ptr, w->s, w->len) == 0;
    default:
        return 0;
    }
}

static void check_features(checker_t *k) {
    const vd_vec_t *want = &k->c->expect.features;
    for (uint32_t i = 0; i < want->len; i++) {
        const vd_ptest_feature_t *w = &VD_VEC_AT(*want, vd_ptest_feature_t, i);
        const vd_feature_t *f = vd_decision_feature(k->d, w->name, strlen(w->name), 1);
        if (matches(&w->want, f)) continue;
        FILE *out = fail(k, w->line, "features");
        vd_ptest_put(out, w->name);
        fputs(": want ", out);
        put_want(out, &w->want);
        fputs(", got ", out);
        if (f)
            vd_ptest_put_value(out, &f->value);
        else
            fputs("no such feature", out);
        k->found->features = 1;
        done(k);
    }
}

static int fault_listed(const vd_ptest_names_t *names, const vd_fault_t *f) {
    for (uint32_t i = 0; i < names->items.len; i++) {
        const char *n = VD_VEC_AT(names->items, vd_ptest_name_t, i).name;
        if (same(n, f->rule) || same(n, f->stage)) return 1;
    }
    return 0;
}

static int fault_happened(const vd_decision_t *d, const char *name) {
    for (uint32_t i = 0; i < d->faults.len; i++) {
        const vd_fault_t *f = &VD_VEC_AT(d->faults, vd_fault_t, i);
        if (same(name, f->rule) || same(name, f->stage)) return 1;
    }
    return 0;
}

/* Faults not listed in expect.faults fail the case (without it: every fault does), as do
 * listed ones that did not happen. */
static void check_faults(checker_t *k) {
    const vd_ptest_names_t *want = &k->c->expect.faults;
    for (uint32_t i = 0; i < k->d->faults.len; i++) {
        const vd_fault_t *f = &VD_VEC_AT(k->d->faults, vd_fault_t, i);
        if (fault_listed(want, f)) continue;
        FILE *out = fail(k, want->given ? want->line : k->c->expect.line, "faults");
        vd_ptest_put(out, f->rule ? f->rule : f->stage);
        fputs(" failed: ", out);
        vd_ptest_put(out, f->message);
        k->found->faults = 1;
        done(k);
    }
    for (uint32_t i = 0; i < want->items.len; i++) {
        const vd_ptest_name_t *n = &VD_VEC_AT(want->items, vd_ptest_name_t, i);
        if (fault_happened(k->d, n->name)) continue;
        vd_ptest_put(fail(k, n->line, "faults"), n->name);
        fputs(" did not fail", k->out);
        k->found->faults = 1;
        done(k);
    }
}

void vd_ptest_check(const vd_ptest_case_t *c, const vd_decision_t *d, FILE *out,
                    vd_ptest_findings_t *found) {
    memset(found, 0, sizeof *found);
    checker_t k = {.c = c, .d = d, .out = out, .found = found};
    const vd_ptest_expect_t *e = &c->expect;
    check_text(&k, e->action, d->action, e->action_line, "action");
    if (e->has_score && !in_range(d->main.score, e->score_min, e->score_max)) {
        FILE *line = fail(&k, e->score_line, "score");
        fputs("want ", line);
        put_range(line, e->score_min, e->score_max);
        fputs(", got ", line);
        vd_ptest_put_number(line, d->main.score, 0);
        done(&k);
    }
    check_fired(&k);
    check_text(&k, e->stopped_by, d->main.stop_rule, e->stopped_by_line, "stopped_by");
    check_text(&k, e->shadow_action, d->has_shadow ? d->shadow_action : d->action,
               e->shadow_action_line, "shadow_action");
    check_tags(&k);
    check_features(&k);
    check_faults(&k);
}
