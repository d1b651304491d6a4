#include "lint.h"

#include "base/error.h"
#include "lint_code.h"
#include "lint_flow.h"

#include <lauxlib.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const check_names[] = {
#define VD_LINT_NAME(e, name) name,
    VD_LINT_CHECKS(VD_LINT_NAME)
#undef VD_LINT_NAME
};

const char *vd_lint_check_name(vd_lint_check_t c) {
    return c < VD_LINT__COUNT ? check_names[c] : "?";
}

int vd__lint_add(vd_lint_report_t *r, vd_lint_check_t check, const char *file, int line,
                 const char *fmt, ...) {
    if (r->n == r->cap) {
        size_t cap = r->cap ? r->cap * 2 : 16;
        vd_lint_finding_t *items = realloc(r->items, cap * sizeof *items);
        if (!items) return VD_ENOMEM;
        r->items = items;
        r->cap = cap;
    }
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    vd_lint_finding_t *f = &r->items[r->n];
    f->check = check;
    f->line = line;
    f->file = strdup(file ? file : "?");
    f->message = strdup(msg);
    if (!f->file || !f->message) {
        free(f->file);
        free(f->message);
        return VD_ENOMEM;
    }
    r->n++;
    return 0;
}

void vd_lint_report_free(vd_lint_report_t *r) {
    for (size_t i = 0; i < r->n; i++) {
        free(r->items[i].file);
        free(r->items[i].message);
    }
    free(r->items);
    memset(r, 0, sizeof *r);
}

void vd_lint_format(const vd_lint_finding_t *f, int as_error, char *buf, size_t cap) {
    const char *level = as_error ? "error" : "warning";
    if (f->line > 0)
        snprintf(buf, cap, "%s:%d: %s: %s [%s]", f->file, f->line, level, f->message,
                 vd_lint_check_name(f->check));
    else
        snprintf(buf, cap, "%s: %s: %s [%s]", f->file, level, f->message,
                 vd_lint_check_name(f->check));
}

static int by_place(const void *x, const void *y) {
    const vd_lint_finding_t *a = x, *b = y;
    int c = strcmp(a->file, b->file);
    if (c) return c;
    if (a->line != b->line) return a->line < b->line ? -1 : 1;
    return strcmp(a->message, b->message);
}

/* In file and line order, so that the output reads along the policy and does not depend on
 * the order a walk met things in; the same finding reached twice is kept once. */
static void sort_unique(vd_lint_report_t *r) {
    if (r->n == 0) return;
    qsort(r->items, r->n, sizeof *r->items, by_place);
    size_t kept = 1;
    for (size_t i = 1; i < r->n; i++) {
        vd_lint_finding_t *f = &r->items[i];
        if (by_place(f, &r->items[kept - 1]) == 0) {
            free(f->file);
            free(f->message);
        } else {
            r->items[kept++] = *f;
        }
    }
    r->n = kept;
}

typedef struct lint_call {
    vd_policy_t *p;
    vd_lint_report_t *out;
    int rc;
} lint_call_t;

static int lint_body(lua_State *L) {
    lint_call_t *c = lua_touserdata(L, 1);
    vd_lint_code_t code;
    c->rc = vd__lint_code(L, c->p, c->out, &code);
    if (c->rc == 0) c->rc = vd__lint_flow(L, c->p, &code, c->out);
    return 0;
}

int vd_policy_lint(vd_policy_t *p, vd_lint_report_t *out) {
    memset(out, 0, sizeof *out);
    lint_call_t c = {p, out, 0};
    lua_State *L = p->L;
    int top = lua_gettop(L);
    lua_pushcfunction(L, lint_body);
    lua_pushlightuserdata(L, &c);
    /* Only memory can fail in there: the lint reads the state and runs no policy code. */
    if (lua_pcall(L, 1, 0, 0) != LUA_OK) c.rc = VD_ENOMEM;
    lua_settop(L, top);
    sort_unique(out);
    return c.rc;
}
