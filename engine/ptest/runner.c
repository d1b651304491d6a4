#include "runner.h"

#include "decision/recorded.h"

#include "base/clock.h"
#include "base/error.h"
#include "check.h"
#include "describe.h"
#include "exec/offline.h"
#include "overlay.h"
#include "put.h"
#include "seed.h"
#include "state/campaign.h"
#include "state/store.h"
#include "validate.h"

#include <limits.h>
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define STORE_BYTES ((size_t)64 << 20)

typedef struct runner {
    const vd_ptest_config_t *cfg;
    vd_ptest_run_t *run;
    vd_store_t *store;
    vd_campaigns_t *campaigns;
    vd_executor_t *x; /* on the policy directory itself */
} runner_t;

/* The wall clock of whatever reads the executor's rather than the case's time. */
static int64_t default_time(void *ud) {
    (void)ud;
    return VD_PTEST_DEFAULT_TIME;
}

static const vd_clock_t fixed_clock = {default_time, NULL};

static int open_executor(const runner_t *rn, const char *dir, vd_executor_t **x, char *err,
                         size_t errlen) {
    vd_offline_config_t oc = {.policy_dir = dir,
                              .data_dir = rn->cfg->data_dir,
                              .plugin_dirs = rn->cfg->plugin_dirs,
                              .nplugin_dirs = rn->cfg->nplugin_dirs,
                              .store = rn->store,
                              .campaigns = rn->campaigns,
                              .clock = &fixed_clock};
    return vd_executor_open(x, &oc, err, errlen);
}

static int case_error(const vd_ptest_case_t *c, int line, char *err, size_t errlen,
                      const char *what, const char *why) {
    snprintf(err, errlen, "%s:%d: case '%s': %s%s", c->file, line, c->name, what, why);
    return -1;
}

/* Writes s to out with every "from" replaced by "to": the copy of the policy directory
 * named as the original in what a case with changed lists reports. */
static void replace_all(FILE *out, const char *s, const char *from, const char *to) {
    size_t flen = strlen(from);
    for (const char *hit; flen && (hit = strstr(s, from)); s = hit + flen)
        fprintf(out, "%.*s%s", (int)(hit - s), s, to);
    fputs(s, out);
}

/* Loads the policies again from a copy with the lists c changes, into *x. */
static int open_overlay(const runner_t *rn, const vd_ptest_case_t *c, char path[PATH_MAX],
                        vd_executor_t **x, char *err, size_t errlen) {
    size_t bad = 0;
    char why[1024];
    int rc = vd_ptest_overlay_make(rn->cfg->dir, c, path, &bad, why, sizeof why);
    if (rc == VD_ENOTFOUND) {
        const vd_ptest_list_t *l = &VD_VEC_AT(c->lists, vd_ptest_list_t, bad);
        snprintf(why, sizeof why, "'%s' is no file of the policy directory", l->path);
        return case_error(c, l->line, err, errlen, "lists: ", why);
    }
    if (rc == 0) rc = open_executor(rn, path, x, why, sizeof why);
    return rc == 0 ? 0 : case_error(c, c->line, err, errlen, "with the lists it changes: ", why);
}

/* Makes c's reports: each event runs as a report's run (its campaigns found, nothing counted,
 * no state changed) and its campaigns get the report. */
static int report(vd_executor_t *x, vd_campaigns_t *campaigns, const vd_ptest_case_t *c,
                  vd_result_t *res, char *err, size_t errlen) {
    for (uint32_t i = 0; i < c->reports.len; i++) {
        const vd_ptest_report_t *rep = &VD_VEC_AT(c->reports, vd_ptest_report_t, i);
        vd_recorded_t nothing = {.state = 1, .store_forbidden = 1};
        vd_run_opts_t opts = {.now_s = c->time, .recorded = &nothing, .reporting = 1};
        if (vd_executor_run_msgpack(x, c->pipeline, rep->event.data, rep->event.len, &opts, res)) {
            char what[32];
            snprintf(what, sizeof what, "reports[%u]: ", (unsigned)i + 1);
            return case_error(c, c->line, err, errlen, what, res->error);
        }
        for (int k = 0; k < res->d->ncampaigns; k++) {
            vd_campaign_view_t v;
            const vd_campaign_ref_t *ref = &res->d->campaigns[k];
            vd_campaign_report(campaigns, (vd_campaign_kind_t)ref->kind, ref->id, rep->bad,
                               rep->weight, rep->reporter, rep->reporter_len, c->time, &v);
        }
    }
    return 0;
}

/* Decides the events of c, those before it first; res then holds its decision. */
static int decide(vd_executor_t *x, vd_campaigns_t *campaigns, const vd_ptest_case_t *c,
                  vd_result_t *res, char *err, size_t errlen) {
    vd_run_opts_t opts = {.now_s = c->time};
    for (uint32_t i = 0; i < c->before.len; i++) {
        const vd_ptest_before_t *b = &VD_VEC_AT(c->before, vd_ptest_before_t, i);
        opts.now_s = c->time - b->ago;
        if (vd_executor_run_msgpack(x, c->pipeline, b->event.data, b->event.len, &opts, res) != 0) {
            char what[32];
            snprintf(what, sizeof what, "before[%u]: ", (unsigned)i + 1);
            return case_error(c, c->line, err, errlen, what, res->error);
        }
    }
    if (report(x, campaigns, c, res, err, errlen) != 0) return -1;
    opts.now_s = c->time;
    if (vd_executor_run_msgpack(x, c->pipeline, c->event.data, c->event.len, &opts, res) != 0)
        return case_error(c, c->line, err, errlen, "event: ", res->error);
    return 0;
}

/* Sets up c's state and lists and decides it; 0 with the decision in res (and *x, the
 * executor that decided, to free when it is not rn->x), else -1 with err. */
static int prepare_and_decide(runner_t *rn, const vd_ptest_case_t *c, vd_executor_t **x,
                              char overlay[PATH_MAX], vd_result_t *res, char *err, size_t errlen) {
    *x = rn->x;
    if (vd_ptest_validate(c, rn->x->policy, err, errlen) != 0) return -1;
    if (c->lists.len && open_overlay(rn, c, overlay, x, err, errlen) != 0) return -1;
    vd_store_clear(rn->store); /* after loading: policy files may count while they load */
    vd_campaigns_clear(rn->campaigns);
    if (vd_ptest_seed(rn->store, c) != 0)
        return case_error(c, c->line, err, errlen, "", "out of memory seeding the state");
    return decide(*x, rn->campaigns, c, res, err, errlen);
}

/* Keeps what was written to f (a memstream over *text) as out's report, with the copy of the
 * policy directory a case made (if any) named as the original, and the report's first line,
 * less its indent, as out's first: the first failure, or the error. */
static void keep_report(vd_ptest_run_t *run, vd_ptest_result_t *out, FILE *f, char **text,
                        const char *copy, const char *dir) {
    fclose(f);
    char *shown = NULL;
    size_t len = 0;
    FILE *named = open_memstream(&shown, &len);
    if (named) {
        replace_all(named, *text ? *text : "", copy, dir);
        fclose(named);
    }
    free(*text);
    out->report = shown ? vd_arena_strndup(&run->arena, shown, len) : NULL;
    free(shown);
    if (!out->report) out->report = "out of memory";
    const char *nl = strchr(out->report, '\n');
    out->first = nl && nl - out->report > 2 ? vd_arena_strndup(&run->arena, out->report + 2,
                                                               (size_t)(nl - out->report) - 2)
                                            : "";
    if (!out->first) out->first = "out of memory";
}

/* Decides c and writes what failed, if anything, to report; returns its status. */
static vd_ptest_status_t decide_and_check(runner_t *rn, const vd_ptest_case_t *c, FILE *report,
                                          char overlay[PATH_MAX]) {
    char err[2048] = "";
    vd_executor_t *x = NULL;
    vd_result_t res;
    vd_ptest_findings_t found = {0};
    vd_ptest_status_t status = VD_PTEST_ERROR;
    if (prepare_and_decide(rn, c, &x, overlay, &res, err, sizeof err) == 0) {
        vd_ptest_check(c, res.d, report, &found);
        const vd_pipeline_t *pl = vd_executor_pipeline(x, c->pipeline, strlen(c->pipeline));
        if (found.failed) vd_ptest_describe(report, res.d, pl, &found);
        vd_ptest_coverage_mark(&rn->run->cov, c->pipeline, res.d);
        status = found.failed ? VD_PTEST_FAILED : VD_PTEST_PASSED;
    } else {
        fputs("  ", report);
        vd_ptest_put(report, err);
        fputc('\n', report);
    }
    if (x != rn->x) vd_executor_free(x);
    return status;
}

static void run_case(runner_t *rn, const vd_ptest_case_t *c, vd_ptest_result_t *out) {
    int64_t t0 = vd_now_ns();
    char overlay[PATH_MAX] = "", *text = NULL;
    size_t len = 0;
    FILE *report = open_memstream(&text, &len);
    out->c = c;
    if (!report) {
        out->status = VD_PTEST_ERROR;
        out->first = out->report = "out of memory";
        return;
    }
    out->status = decide_and_check(rn, c, report, overlay);
    vd_ptest_overlay_remove(overlay);
    keep_report(rn->run, out, report, &text, overlay, rn->cfg->dir);
    out->seconds = (double)(vd_now_ns() - t0) / 1e9;
}

static int run_cases(runner_t *rn, const regex_t *select) {
    vd_ptest_run_t *run = rn->run;
    for (uint32_t i = 0; i < run->suite.cases.len; i++) {
        const vd_ptest_case_t *c = &VD_VEC_AT(run->suite.cases, vd_ptest_case_t, i);
        if (select && regexec(select, c->name, 0, NULL, 0) != 0) {
            run->unselected++;
            continue;
        }
        vd_ptest_result_t *res = vd_vec_push(&run->results, &run->arena, sizeof *res);
        if (!res) return VD_ENOMEM;
        run_case(rn, c, res);
        run->passed += res->status == VD_PTEST_PASSED;
        run->failed += res->status == VD_PTEST_FAILED;
        run->errors += res->status == VD_PTEST_ERROR;
    }
    for (uint32_t i = 0; i < run->suite.files.len; i++)
        run->errors += VD_VEC_AT(run->suite.files, vd_ptest_file_t, i).error != NULL;
    run->cov.partial = run->unselected > 0;
    return 0;
}

/* Loads the policies, reads the tests and runs them. */
static int load_and_run(runner_t *rn, const regex_t *select, char *err, size_t errlen) {
    vd_ptest_run_t *run = rn->run;
    int rc = open_executor(rn, rn->cfg->dir, &rn->x, err, errlen);
    if (rc == 0) rc = vd_ptest_suite_read_dir(&run->suite, rn->cfg->dir, err, errlen);
    if (rc == 0 && run->suite.files.len == 0) {
        snprintf(err, errlen, "%s: no test files (*_test.lua) beside the policies", rn->cfg->dir);
        rc = VD_ENOTFOUND;
    }
    if (rc == 0) rc = vd_policy_lint(rn->x->policy, &run->lint); /* before a case runs */
    if (rc == 0) rc = vd_ptest_coverage_init(&run->cov, rn->x->policy, &run->arena);
    if (rc == 0) rc = run_cases(rn, select);
    if (rc == VD_ENOMEM) snprintf(err, errlen, "out of memory");
    return rc;
}

int vd_ptest_run(vd_ptest_run_t *run, const vd_ptest_config_t *cfg, char *err, size_t errlen) {
    memset(run, 0, sizeof *run);
    vd_ptest_suite_init(&run->suite);
    vd_arena_init(&run->arena);
    run->suite.data_dir = cfg->data_dir;
    int64_t t0 = vd_now_ns();
    regex_t select;
    if (cfg->run) {
        int bad = regcomp(&select, cfg->run, REG_EXTENDED | REG_NOSUB);
        if (bad) {
            char why[256];
            regerror(bad, &select, why, sizeof why);
            snprintf(err, errlen, "--run '%s': %s", cfg->run, why);
            return VD_EINVAL;
        }
    }
    runner_t rn = {.cfg = cfg,
                   .run = run,
                   .store = vd_store_new(STORE_BYTES),
                   .campaigns = vd_campaigns_new(STORE_BYTES / 4)};
    int ok = rn.store && rn.campaigns;
    int rc = ok ? load_and_run(&rn, cfg->run ? &select : NULL, err, errlen) : VD_ENOMEM;
    if (!ok) snprintf(err, errlen, "out of memory");
    vd_executor_free(rn.x);
    vd_store_free(rn.store);
    vd_campaigns_free(rn.campaigns);
    if (cfg->run) regfree(&select);
    run->seconds = (double)(vd_now_ns() - t0) / 1e9;
    return rc;
}

void vd_ptest_run_free(vd_ptest_run_t *run) {
    vd_lint_report_free(&run->lint);
    vd_ptest_suite_close(&run->suite);
    vd_arena_close(&run->arena);
}
