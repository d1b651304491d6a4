#include "report.h"

#include "put.h"

static const char *const status_word[] = {
    [VD_PTEST_PASSED] = "ok   ", [VD_PTEST_FAILED] = "FAIL ", [VD_PTEST_ERROR] = "ERROR "};

void vd_ptest_write_results(const vd_ptest_run_t *run, FILE *out, int verbose) {
    for (uint32_t i = 0; i < run->suite.files.len; i++) {
        const vd_ptest_file_t *f = &VD_VEC_AT(run->suite.files, vd_ptest_file_t, i);
        if (!f->error) continue;
        fputs("ERROR ", out);
        vd_ptest_put(out, f->error);
        fputc('\n', out);
    }
    for (uint32_t i = 0; i < run->results.len; i++) {
        const vd_ptest_result_t *r = &VD_VEC_AT(run->results, vd_ptest_result_t, i);
        if (r->status == VD_PTEST_PASSED && !verbose) continue;
        fprintf(out, "%s%s:%d: ", status_word[r->status], r->c->file, r->c->line);
        vd_ptest_put(out, r->c->name);
        if (verbose) fprintf(out, " (%.1f ms)", r->seconds * 1e3);
        fputc('\n', out);
        if (r->status != VD_PTEST_PASSED) fputs(r->report, out);
    }
}

void vd_ptest_write_summary(const vd_ptest_run_t *run, FILE *out) {
    fprintf(out, "%zu passed, %zu failed", run->passed, run->failed);
    if (run->errors) fprintf(out, ", %zu error%s", run->errors, run->errors == 1 ? "" : "s");
    fprintf(out, " in %.2f s", run->seconds);
    if (run->unselected)
        fprintf(out, " (%zu case%s not selected by --run)", run->unselected,
                run->unselected == 1 ? "" : "s");
    fputc('\n', out);
}
