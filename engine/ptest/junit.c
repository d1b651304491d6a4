#include "junit.h"

#include "replay/escape.h"

#include <string.h>

static void attr(FILE *out, const char *name, const char *value) {
    fprintf(out, " %s=\"", name);
    vd_esc_html(out, value, strlen(value));
    fputc('"', out);
}

/* The file's path as a dotted class name (policies/signup_test.lua: policies.signup_test),
 * which CI systems split into a package and a class. */
static void class_attr(FILE *out, const char *path) {
    while (*path == '/' || (path[0] == '.' && path[1] == '/'))
        path += *path == '/' ? 1 : 2;
    size_t n = strlen(path);
    if (n > 4 && strcmp(path + n - 4, ".lua") == 0) n -= 4;
    fputs(" classname=\"", out);
    for (size_t i = 0; i < n;) {
        const char *slash = memchr(path + i, '/', n - i);
        size_t part = slash ? (size_t)(slash - (path + i)) : n - i;
        vd_esc_html(out, path + i, part);
        if (slash) fputc('.', out);
        i += part + 1;
    }
    fputc('"', out);
}

typedef struct tally {
    size_t tests, failures, errors;
    double seconds;
} tally_t;

static tally_t tally_of(const vd_ptest_run_t *run, const vd_ptest_file_t *f) {
    tally_t t = {.errors = f->error != NULL, .tests = f->error != NULL};
    for (uint32_t i = 0; i < run->results.len; i++) {
        const vd_ptest_result_t *r = &VD_VEC_AT(run->results, vd_ptest_result_t, i);
        if (r->c->file != f->path) continue;
        t.tests++;
        t.failures += r->status == VD_PTEST_FAILED;
        t.errors += r->status == VD_PTEST_ERROR;
        t.seconds += r->seconds;
    }
    return t;
}

static void write_case(FILE *out, const vd_ptest_result_t *r) {
    fputs("    <testcase", out);
    attr(out, "name", r->c->name);
    class_attr(out, r->c->file);
    attr(out, "file", r->c->file);
    fprintf(out, " line=\"%d\" time=\"%.6f\"", r->c->line, r->seconds);
    if (r->status == VD_PTEST_PASSED) {
        fputs("/>\n", out);
        return;
    }
    const char *kind = r->status == VD_PTEST_FAILED ? "failure" : "error";
    fprintf(out, ">\n      <%s", kind);
    attr(out, "message", r->first);
    attr(out, "type", kind);
    fputc('>', out);
    vd_esc_html(out, r->report, strlen(r->report));
    fprintf(out, "</%s>\n    </testcase>\n", kind);
}

static void write_file(FILE *out, const vd_ptest_run_t *run, const vd_ptest_file_t *f) {
    tally_t t = tally_of(run, f);
    if (!t.tests) return;
    fputs("  <testsuite", out);
    attr(out, "name", f->path);
    fprintf(out, " tests=\"%zu\" failures=\"%zu\" errors=\"%zu\" skipped=\"0\" time=\"%.6f\">\n",
            t.tests, t.failures, t.errors, t.seconds);
    if (f->error) {
        fputs("    <testcase", out);
        attr(out, "name", f->path);
        class_attr(out, f->path);
        attr(out, "file", f->path);
        fputs(" time=\"0\">\n      <error", out);
        attr(out, "message", f->error);
        fputs(" type=\"error\">", out);
        vd_esc_html(out, f->error, strlen(f->error));
        fputs("</error>\n    </testcase>\n", out);
    }
    for (uint32_t i = 0; i < run->results.len; i++) {
        const vd_ptest_result_t *r = &VD_VEC_AT(run->results, vd_ptest_result_t, i);
        if (r->c->file == f->path) write_case(out, r);
    }
    fputs("  </testsuite>\n", out);
}

int vd_ptest_write_junit(const vd_ptest_run_t *run, FILE *out) {
    fputs("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites name=\"verdict test\"", out);
    fprintf(out, " tests=\"%zu\" failures=\"%zu\" errors=\"%zu\" time=\"%.6f\">\n",
            run->passed + run->failed + run->errors, run->failed, run->errors, run->seconds);
    for (uint32_t i = 0; i < run->suite.files.len; i++)
        write_file(out, run, &VD_VEC_AT(run->suite.files, vd_ptest_file_t, i));
    fputs("</testsuites>\n", out);
    return ferror(out) ? -1 : 0;
}
