#include "stage.h"

#include "activity.h"
#include "base/error.h"
#include "call.h"
#include "setup.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int vd_plugin_stage_create(vd_plugin_stage_t **out, vd_plugin_lib_t *lib,
                           vd_plugin_config_t *config, const char *stage_name, const char *pipeline,
                           const char *policy_dir, const char *data_dir, char *err, size_t errlen) {
    vd_plugin_stage_t *ps = calloc(1, sizeof *ps);
    if (ps) {
        ps->lib = lib;
        ps->config = config;
        ps->stage = strdup(stage_name);
        ps->pipeline = strdup(pipeline ? pipeline : "");
    }
    if (!ps || !ps->stage || !ps->pipeline) {
        if (ps)
            vd_plugin_stage_free(ps);
        else
            vd_plugin_config_free(config), vd_plugin_lib_unref(lib);
        return snprintf(err, errlen, "out of memory"), VD_ENOMEM;
    }
    vd_plugin_setup_t setup = {
        .ps = ps, .stage = stage_name, .policy_dir = policy_dir, .data_dir = data_dir};
    char perr[512] = "";
    vd_plugin_activity_t saved = vd_plugin_activity_enter(lib, ps, "create");
    int rc = lib->desc->create(lib->global, &setup, &ps->instance, perr, sizeof perr);
    vd_plugin_activity_leave(saved);
    if (rc != VD_PLUGIN_OK) {
        snprintf(err, errlen, "plugin '%s' (%s) refused its configuration: %s", lib->desc->name,
                 lib->path,
                 *setup.refused ? setup.refused
                 : *perr        ? perr
                                : "no reason given");
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
            const vd_call_host_t *host = c->host;
            void *owner = c->owner;
            vd_plugin_call_free(c);
            if (host && host->release) host->release(owner);
        }
    }
    ps->orphans = NULL;
}

void vd_plugin_stage_free(vd_plugin_stage_t *ps) {
    if (!ps) return;
    ps->closing = 1;
    if (ps->instance) {
        vd_plugin_activity_t saved = vd_plugin_activity_enter(ps->lib, ps, "destroy");
        ps->lib->desc->destroy(ps->instance);
        vd_plugin_activity_leave(saved);
    }
    abandon_orphans(ps);
    vd_plugin_call_drop_spare(ps);
    vd_plugin_config_free(ps->config);
    free_list(ps->fields, ps->nfields);
    free_list(ps->features, ps->nfeatures);
    free_list(ps->info, ps->ninfo * 2);
    free(ps->stage);
    free(ps->pipeline);
    vd_plugin_lib_unref(ps->lib); /* after destroy(): the last stage unmaps the code */
    free(ps);
}
