#include "put.h"

#include "replay/escape.h"

#include <stdlib.h>
#include <string.h>

void vd_ptest_put_n(FILE *out, const char *s, size_t n) {
    char *safe = vd_esc_text(s, n, 0);
    fputs(safe ? safe : "?", out);
    free(safe);
}

void vd_ptest_put(FILE *out, const char *s) {
    if (s) vd_ptest_put_n(out, s, strlen(s));
}

void vd_ptest_put_number(FILE *out, double v, int sign) {
    fprintf(out, sign ? "%+.10g" : "%.10g", v);
}
