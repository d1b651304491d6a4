#include "text_table.h"

#include "base/error.h"
#include "replay/escape.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

void vd_ttable_init(vd_ttable_t *t, const char *align) {
    memset(t, 0, sizeof *t);
    t->align = align;
    t->ncols = strlen(align);
}

void vd_ttable_free(vd_ttable_t *t) {
    for (size_t i = 0; i < t->ncells; i++)
        free(t->cells[i]);
    free(t->cells);
    memset(t, 0, sizeof *t);
}

/* Takes ownership of cell (NULL: out of memory). */
static void push(vd_ttable_t *t, char *cell) {
    if (cell && t->ncells == t->cap) {
        size_t cap = t->cap ? t->cap * 2 : 32;
        char **more = realloc(t->cells, cap * sizeof *more);
        if (!more) {
            free(cell);
            cell = NULL;
        } else {
            t->cells = more;
            t->cap = cap;
        }
    }
    if (!cell) {
        t->oom = 1;
        return;
    }
    t->cells[t->ncells++] = cell;
}

void vd_ttable_add(vd_ttable_t *t, const char *text) {
    push(t, strdup(text));
}

void vd_ttable_addf(vd_ttable_t *t, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    char *cell = NULL;
    if (vasprintf(&cell, fmt, ap) < 0) cell = NULL;
    va_end(ap);
    push(t, cell);
}

void vd_ttable_data(vd_ttable_t *t, const char *s, size_t max) {
    push(t, vd_esc_text(s, strlen(s), max));
}

int vd_ttable_print(const vd_ttable_t *t, FILE *out, int indent) {
    if (t->oom) return VD_ENOMEM;
    size_t width[32] = {0}, nrows = (t->ncells + t->ncols - 1) / t->ncols;
    if (t->ncols > sizeof width / sizeof *width) return VD_EINVAL;
    for (size_t i = 0; i < t->ncells; i++) {
        size_t w = vd_text_width(t->cells[i]);
        if (w > width[i % t->ncols]) width[i % t->ncols] = w;
    }
    for (size_t row = 0; row < nrows; row++) {
        fprintf(out, "%*s", indent, "");
        for (size_t c = 0; c < t->ncols; c++) {
            size_t i = row * t->ncols + c;
            const char *cell = i < t->ncells ? t->cells[i] : "";
            int pad = (int)(width[c] - vd_text_width(cell));
            int last = c + 1 == t->ncols;
            if (t->align[c] == 'r')
                fprintf(out, "%*s%s", pad, "", cell);
            else
                fprintf(out, "%s%*s", cell, last ? 0 : pad, "");
            if (!last) fputs("  ", out);
        }
        fputc('\n', out);
        if (row == 0 && nrows > 1) {
            fprintf(out, "%*s", indent, "");
            for (size_t c = 0; c < t->ncols; c++) {
                for (size_t k = 0; k < width[c]; k++)
                    fputc('-', out);
                if (c + 1 < t->ncols) fputs("  ", out);
            }
            fputc('\n', out);
        }
    }
    return ferror(out) ? VD_EIO : 0;
}
