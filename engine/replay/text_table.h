/* Aligned text tables for a terminal: cells are collected row by row, then printed with
 * each column as wide as its widest cell. The first row is the header, underlined. */
#ifndef VD_REPLAY_TEXT_TABLE_H
#define VD_REPLAY_TEXT_TABLE_H

#include <stddef.h>
#include <stdio.h>

typedef struct vd_ttable {
    const char *align; /* one letter per column: 'l' or 'r' */
    size_t ncols;
    char **cells;
    size_t ncells, cap;
    int oom; /* a cell could not be stored: printing fails */
} vd_ttable_t;

void vd_ttable_init(vd_ttable_t *t, const char *align);
void vd_ttable_free(vd_ttable_t *t);

/* Adds a cell of trusted text (labels and numbers the report formats). */
void vd_ttable_add(vd_ttable_t *t, const char *text);
void vd_ttable_addf(vd_ttable_t *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Adds a cell of data text, escaped for a terminal and cut to max characters (0: no cut). */
void vd_ttable_data(vd_ttable_t *t, const char *s, size_t max);

/* Prints the table with indent spaces before each line. Returns 0, VD_ENOMEM or VD_EIO. */
int vd_ttable_print(const vd_ttable_t *t, FILE *out, int indent);

#endif
