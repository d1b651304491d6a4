#include "stage.h"

#include "../core/error.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct vd_plugin_setup {
    vd_plugin_stage_t *ps;
    const char *stage;
    const char *policy_dir;
};

/* ---- setup: what create() may ask ---- */

const vd_plugin_config_t *vd__setup_config(vd_plugin_setup_t *s) {
    return s->ps->config;
}

const char *vd__setup_stage(vd_plugin_setup_t *s) {
    return s->stage;
}

int vd__setup_path(vd_plugin_setup_t *s, const char *path, char *out, size_t cap) {
    if (!path || !out) return VD_PLUGIN_ERROR;
    int n = path[0] == '/' ? snprintf(out, cap, "%s", path)
                           : snprintf(out, cap, "%s/%s", s->policy_dir, path);
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

int vd_plugin_stage_create(vd_plugin_stage_t **out, vd_plugin_lib_t *lib,
                           vd_plugin_config_t *config, const char *stage_name,
                           const char *policy_dir, char *err, size_t errlen) {
    vd_plugin_stage_t *ps = calloc(1, sizeof *ps);
    if (!ps) {
        vd_plugin_config_free(config);
        return snprintf(err, errlen, "out of memory"), VD_ENOMEM;
    }
    ps->lib = lib;
    ps->config = config;
    vd_plugin_setup_t setup = {ps, stage_name, policy_dir};
    char perr[512] = "";
    if (lib->desc->create(lib->global, &setup, &ps->instance, perr, sizeof perr) != VD_PLUGIN_OK) {
        snprintf(err, errlen, "plugin '%s' (%s) refused its configuration: %s", lib->desc->name,
                 lib->path, *perr ? perr : "no reason given");
        ps->instance = NULL;
        vd_plugin_stage_free(ps);
        return VD_EPOLICY;
    }
    *out = ps;
    return 0;
}

static void free_list(char **list, size_t n) {
    for (size_t i = 0; i < n; i++)
        free(list[i]);
    free(list);
}

/* After destroy(), the calls the plugin never completed are the host's to free. One that it
 * completed just before is in the worker's completion queue: the worker frees it there. */
static void abandon_orphans(vd_plugin_stage_t *ps) {
    for (vd_plugin_call_t *c = ps->orphans, *next; c; c = next) {
        next = c->next;
        if (atomic_exchange(&c->state, VD_CALL_ABANDONED) == VD_CALL_PENDING) {
            struct vd_request *req = c->request;
            vd_plugin_call_free(c);
            if (req) vd__request_release(req);
        }
    }
    ps->orphans = NULL;
}

void vd_plugin_stage_free(vd_plugin_stage_t *ps) {
    if (!ps) return;
    if (ps->instance) ps->lib->desc->destroy(ps->instance);
    abandon_orphans(ps);
    vd_plugin_config_free(ps->config);
    free_list(ps->fields, ps->nfields);
    free_list(ps->features, ps->nfeatures);
    free_list(ps->info, ps->ninfo * 2);
    free(ps);
}

/* ---- calls ---- */

vd_plugin_call_t *vd_plugin_call_new(vd_plugin_stage_t *ps, const char *stage_name,
                                     const msgpack_object *event, const vd_decision_t *d,
                                     int shadow, int64_t deadline_ns) {
    vd_plugin_call_t *c = calloc(1, sizeof *c);
    if (!c) return NULL;
    size_t n = ps->nfields ? ps->nfields : 1;
    c->field_cache = calloc(n, sizeof *c->field_cache);
    c->field_done = calloc(n, 1);
    if (!c->field_cache || !c->field_done) {
        vd_plugin_call_free(c);
        return NULL;
    }
    c->ps = ps;
    c->stage_name = stage_name;
    c->event = event;
    c->d = d;
    c->shadow = shadow;
    c->deadline_ns = deadline_ns;
    return c;
}

static int merge_one(const vd_plugin_call_t *c, const vd_plugin_out_t *o, vd_decision_t *d) {
    switch (o->kind) {
    case VD_OUT_SCORE:
        return vd_decision_add_reason(d, c->shadow, o->rule, c->stage_name, o->score, o->detail,
                                      o->detail ? strlen(o->detail) : 0);
    case VD_OUT_TAG:
        return vd_decision_add_tag(d, c->shadow, o->tag, strlen(o->tag));
    case VD_OUT_FEATURE: {
        const char *name = c->ps->features[o->feature - 1];
        return vd_decision_set_feature(d, c->shadow, name, strlen(name), &o->value);
    }
    }
    return 0;
}

int vd_plugin_call_merge(const vd_plugin_call_t *c, vd_decision_t *d) {
    for (size_t i = 0; i < c->nouts; i++) {
        const vd_plugin_out_t *o = &c->outs[i];
        /* Reason rule names must outlive the call: copy them into the request arena. */
        vd_plugin_out_t copy = *o;
        if (o->kind == VD_OUT_SCORE) {
            const char *rule = o->rule ? o->rule : c->stage_name;
            if (!(copy.rule = vd_arena_strndup(d->arena, rule, strlen(rule)))) return VD_ENOMEM;
        }
        int rc = merge_one(c, &copy, d);
        if (rc) return rc;
    }
    return 0;
}

void vd_plugin_call_set_error(vd_plugin_call_t *c, const char *message) {
    free(c->error);
    c->error = message ? strdup(message) : NULL;
}

void vd_plugin_call_free(vd_plugin_call_t *c) {
    if (!c) return;
    for (size_t i = 0; i < c->nouts; i++) {
        free(c->outs[i].rule);
        free(c->outs[i].detail);
        free(c->outs[i].tag);
        if (c->outs[i].value.type == VD_VAL_STR) free((char *)c->outs[i].value.u.s.ptr);
    }
    free(c->outs);
    free(c->field_cache);
    free(c->field_done);
    free(c->error);
    free(c);
}
