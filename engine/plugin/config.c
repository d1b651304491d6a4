#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int by_key(const void *a, const void *b) {
    return strcmp(*(char *const *)a, *(char *const *)b);
}

void vd_plugin_config_sort_keys(vd_plugin_config_t *map) {
    qsort(map->keys, map->len, sizeof *map->keys, by_key);
}

static void free_node(vd_plugin_config_t *c) {
    for (size_t i = 0; (c->type == VD_PLUGIN_ARRAY || c->type == VD_PLUGIN_MAP) && i < c->len;
         i++) {
        free_node(&c->items[i]);
        if (c->keys) free(c->keys[i]);
    }
    free(c->items);
    free(c->keys);
    free(c->s);
}

void vd_plugin_config_free(vd_plugin_config_t *c) {
    if (!c) return;
    free_node(c);
    free(c);
}

vd_plugin_type_t vd_plugin_config_type(const vd_plugin_config_t *c) {
    return c ? c->type : VD_PLUGIN_NONE;
}

const vd_plugin_config_t *vd_plugin_config_get(const vd_plugin_config_t *map, const char *key) {
    if (!map || map->type != VD_PLUGIN_MAP || !key) return NULL;
    char *const *hit = bsearch(&key, map->keys, map->len, sizeof *map->keys, by_key);
    return hit ? &map->items[hit - map->keys] : NULL;
}

size_t vd_plugin_config_len(const vd_plugin_config_t *c) {
    return c && (c->type == VD_PLUGIN_ARRAY || c->type == VD_PLUGIN_MAP) ? c->len : 0;
}

const vd_plugin_config_t *vd_plugin_config_at(const vd_plugin_config_t *c, size_t i) {
    return i < vd_plugin_config_len(c) ? &c->items[i] : NULL;
}

const char *vd_plugin_config_key_at(const vd_plugin_config_t *map, size_t i) {
    return map && map->type == VD_PLUGIN_MAP && i < map->len ? map->keys[i] : NULL;
}

const char *vd_plugin_config_string(const vd_plugin_config_t *c) {
    return c && c->type == VD_PLUGIN_STRING ? c->s : NULL;
}

int vd_plugin_config_number(const vd_plugin_config_t *c, double *out) {
    if (!c) return VD_PLUGIN_NOTFOUND;
    if (c->type != VD_PLUGIN_INT && c->type != VD_PLUGIN_FLOAT) return VD_PLUGIN_WRONGTYPE;
    *out = c->n;
    return VD_PLUGIN_OK;
}

int vd_plugin_config_bool(const vd_plugin_config_t *c, int *out) {
    if (!c) return VD_PLUGIN_NOTFOUND;
    if (c->type != VD_PLUGIN_BOOL) return VD_PLUGIN_WRONGTYPE;
    *out = c->b;
    return VD_PLUGIN_OK;
}

int vd_plugin_config_check_keys(const vd_plugin_config_t *map, const char *const *known, char *err,
                                size_t errlen) {
    for (size_t i = 0; i < vd_plugin_config_len(map); i++) {
        const char *key = vd_plugin_config_key_at(map, i);
        const char *const *k = known;
        while (key && k && *k && strcmp(*k, key) != 0)
            k++;
        if (key && (!k || !*k)) {
            int n = snprintf(err, errlen, "unknown key '%s' (known:", key);
            for (k = known; k && *k && n > 0 && (size_t)n < errlen; k++)
                n += snprintf(err + n, errlen - (size_t)n, "%s %s", k == known ? "" : ",", *k);
            if (n > 0 && (size_t)n < errlen) snprintf(err + n, errlen - (size_t)n, ")");
            return VD_PLUGIN_ERROR;
        }
    }
    return VD_PLUGIN_OK;
}
