#include "describe.h"

#include "put.h"

#include <string.h>

/* "challenge from 5, block from 10, else allow" */
static void put_thresholds(FILE *out, const vd_pipeline_t *pl) {
    for (size_t i = 0; i < pl->nactions; i++) {
        vd_ptest_put(out, pl->actions[i].name);
        fputs(" from ", out);
        vd_ptest_put_number(out, pl->actions[i].bound, 0);
        fputs(", ", out);
    }
    fputs("else ", out);
    vd_ptest_put(out, pl->default_action);
}

/* The reasons of one side, aligned in columns: stage, rule, score, detail. */
static void put_reasons(FILE *out, const vd_vec_t *reasons, const char *indent) {
    int stage_w = 0, rule_w = 0;
    for (uint32_t i = 0; i < reasons->len; i++) {
        const vd_reason_t *r = &VD_VEC_AT(*reasons, vd_reason_t, i);
        int s = (int)strlen(r->stage), n = (int)strlen(r->rule);
        stage_w = s > stage_w ? s : stage_w;
        rule_w = n > rule_w ? n : rule_w;
    }
    for (uint32_t i = 0; i < reasons->len; i++) {
        const vd_reason_t *r = &VD_VEC_AT(*reasons, vd_reason_t, i);
        fputs(indent, out);
        vd_ptest_put(out, r->stage);
        fprintf(out, "%*s  ", stage_w - (int)strlen(r->stage), "");
        vd_ptest_put(out, r->rule);
        fprintf(out, "%*s  ", rule_w - (int)strlen(r->rule), "");
        vd_ptest_put_number(out, r->score, 1);
        if (r->detail) {
            fputs("  ", out);
            vd_ptest_put(out, r->detail);
        }
        fputc('\n', out);
    }
}

static void put_tags(FILE *out, const vd_vec_t *tags) {
    fputs("    tags: ", out);
    for (uint32_t i = 0; i < tags->len; i++) {
        if (i) fputs(", ", out);
        vd_ptest_put(out, VD_VEC_AT(*tags, const char *, i));
    }
    fputs(tags->len ? "\n" : "none\n", out);
}

static void put_features(FILE *out, const vd_decision_t *d) {
    fputs(d->features.len ? "    features:\n" : "    features: none\n", out);
    for (uint32_t i = 0; i < d->features.len; i++) {
        const vd_feature_t *f = &VD_VEC_AT(d->features, vd_feature_t, i);
        fputs("      ", out);
        vd_ptest_put(out, f->name);
        fputs(" = ", out);
        vd_ptest_put_value(out, &f->value);
        fputs(f->shadow ? "  (shadow)\n" : "\n", out);
    }
}

void vd_ptest_describe(FILE *out, const vd_decision_t *d, const vd_pipeline_t *pl,
                       const vd_ptest_findings_t *found) {
    fputs("  decided: ", out);
    vd_ptest_put(out, d->action);
    fputs(", score ", out);
    vd_ptest_put_number(out, d->main.score, 0);
    fputs(" (", out);
    put_thresholds(out, pl);
    fputs(")\n", out);
    if (!d->main.reasons.len) fputs("    no rule fired\n", out);
    put_reasons(out, &d->main.reasons, "    ");
    if (d->main.stop_rule) {
        fputs("    stopped by ", out);
        vd_ptest_put(out, d->main.stop_rule);
        fputc('\n', out);
    }
    if (d->has_shadow) {
        fputs("    shadow: ", out);
        vd_ptest_put(out, d->shadow_action);
        fputs(", score ", out);
        vd_ptest_put_number(out, d->main.score + d->shadow.score, 0);
        fputc('\n', out);
        put_reasons(out, &d->shadow.reasons, "      ");
    }
    for (uint32_t i = 0; !found->faults && i < d->faults.len; i++) {
        const vd_fault_t *f = &VD_VEC_AT(d->faults, vd_fault_t, i);
        fputs("    fault: ", out);
        vd_ptest_put(out, f->rule ? f->rule : f->stage);
        fputs(": ", out);
        vd_ptest_put(out, f->message);
        fputc('\n', out);
    }
    if (found->tags) put_tags(out, &d->main.tags);
    if (found->features) put_features(out, d);
}
