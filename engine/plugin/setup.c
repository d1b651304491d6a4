#include "setup.h"

#include "base/path.h"
#include "stage.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const vd_plugin_config_t *vd__setup_config(vd_plugin_setup_t *s) {
    return s->ps->config;
}

const char *vd__setup_stage(vd_plugin_setup_t *s) {
    return s->stage;
}

int vd__setup_path(vd_plugin_setup_t *s, const char *path, char *out, size_t cap) {
    if (!path || !out) return VD_PLUGIN_ERROR;
    char joined[PATH_MAX], real[PATH_MAX];
    int n = path[0] == '/' ? snprintf(joined, sizeof joined, "%s", path)
                           : snprintf(joined, sizeof joined, "%s/%s", s->policy_dir, path);
    if (n < 0 || (size_t)n >= sizeof joined) return VD_PLUGIN_ERROR;
    /* A file that does not exist is left to the plugin to report: nothing can be read. */
    const char *use = realpath(joined, real) ? real : joined;
    if (use == real && !vd_path_within(real, s->policy_dir) && !vd_path_within(real, s->data_dir)) {
        snprintf(s->refused, sizeof s->refused,
                 "'%s' is outside the policy directory and the data directory (--data-dir); "
                 "policies name files only there",
                 path);
        return VD_PLUGIN_ERROR;
    }
    n = snprintf(out, cap, "%s", use);
    return n >= 0 && (size_t)n < cap ? VD_PLUGIN_OK : VD_PLUGIN_ERROR;
}

/* Interns name in the list and returns its 1-based handle (0 on failure). */
static uint32_t intern(char ***list, size_t *n, const char *name) {
    if (!name || !*name || strlen(name) > 255) return 0;
    for (size_t i = 0; i < *n; i++)
        if (strcmp((*list)[i], name) == 0) return (uint32_t)i + 1;
    char **grown = realloc(*list, (*n + 1) * sizeof *grown);
    if (!grown) return 0;
    *list = grown;
    if (!(grown[*n] = strdup(name))) return 0;
    return (uint32_t)++ * n;
}

vd_plugin_field_t vd__setup_field(vd_plugin_setup_t *s, const char *path) {
    return intern(&s->ps->fields, &s->ps->nfields, path);
}

vd_plugin_feature_t vd__setup_feature(vd_plugin_setup_t *s, const char *name) {
    return intern(&s->ps->features, &s->ps->nfeatures, name);
}

void vd__setup_describe(vd_plugin_setup_t *s, const char *key, const char *value) {
    vd_plugin_stage_t *ps = s->ps;
    if (!key || !value) return;
    for (size_t i = 0; i < ps->ninfo; i++) {
        if (strcmp(ps->info[2 * i], key) == 0) {
            char *v = strdup(value);
            if (v) free(ps->info[2 * i + 1]), ps->info[2 * i + 1] = v;
            return;
        }
    }
    char **grown = realloc(ps->info, (ps->ninfo + 1) * 2 * sizeof *grown);
    if (!grown) return;
    ps->info = grown;
    grown[2 * ps->ninfo] = strdup(key);
    grown[2 * ps->ninfo + 1] = strdup(value);
    if (grown[2 * ps->ninfo] && grown[2 * ps->ninfo + 1])
        ps->ninfo++;
    else
        free(grown[2 * ps->ninfo]), free(grown[2 * ps->ninfo + 1]);
}
