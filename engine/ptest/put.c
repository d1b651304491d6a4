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

void vd_ptest_put_value(FILE *out, const vd_value_t *v) {
    switch (v->type) {
    case VD_VAL_BOOL:
        fputs(v->u.b ? "true" : "false", out);
        break;
    case VD_VAL_INT:
        fprintf(out, "%lld", (long long)v->u.i);
        break;
    case VD_VAL_NUM:
        vd_ptest_put_number(out, v->u.n, 0);
        break;
    case VD_VAL_STR:
        fputc('"', out);
        vd_ptest_put_n(out, v->u.s.ptr, v->u.s.len);
        fputc('"', out);
        break;
    default:
        fputs("nil", out);
    }
}
