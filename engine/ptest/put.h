/* Writing what came from a policy, a test file or a decision into a terminal: names, details
 * and values with control bytes and bytes that are not UTF-8 made visible (\x1b), so that an
 * event cannot move the cursor; numbers in their shortest readable form. */
#ifndef VD_PTEST_PUT_H
#define VD_PTEST_PUT_H

#include "decision/decision.h"

#include <stddef.h>
#include <stdio.h>

/* s[0..n) made safe for a terminal. */
void vd_ptest_put_n(FILE *out, const char *s, size_t n);

/* The same for a NUL-terminated string (NULL: nothing). */
void vd_ptest_put(FILE *out, const char *s);

/* A number as people write it: 6, 4.5, -3.218, 1e+30; sign adds a + to positive ones. */
void vd_ptest_put_number(FILE *out, double v, int sign);

/* A feature's value: "text" (quoted), 4, 0.25, true, nil. */
void vd_ptest_put_value(FILE *out, const vd_value_t *v);

#endif
