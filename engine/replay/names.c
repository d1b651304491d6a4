#include "names.h"

#include "base/error.h"

#include <assert.h>
#include <stdlib.h>
#include <string.h>

void vd__names_init(vd_names_t *n, uint32_t first, uint32_t max) {
    assert(max >= 1);
    memset(n, 0, sizeof *n);
    vd_strmap_init(&n->ids);
    n->first = first;
    n->max = max;
}

void vd__names_free(vd_names_t *n) {
    vd_strmap_free(&n->ids);
    free(n->name);
    memset(n, 0, sizeof *n);
}

static int add(vd_names_t *n, const char *s, size_t len, uint32_t *id) {
    /* Room for the name first, so that the map never holds an id without a name. */
    if (n->count == n->cap) {
        uint32_t cap = n->cap ? n->cap * 2 : 16;
        const char **more = realloc(n->name, cap * sizeof *more);
        if (!more) return VD_ENOMEM;
        n->name = more;
        n->cap = cap;
    }
    uint32_t *val;
    const char *stored;
    int rc = vd_strmap_put(&n->ids, s, len, n->first + n->count, &val, &stored);
    if (rc < 0) return rc;
    if (rc == 1) n->name[n->count++] = stored;
    *id = *val;
    return 0;
}

int vd__names_intern(vd_names_t *n, const char *name, uint32_t *id) {
    size_t len = strlen(name);
    uint32_t *found = vd_strmap_find(&n->ids, name, len);
    if (found) {
        *id = *found;
        return 0;
    }
    if (n->count + 1 < n->max) return add(n, name, len, id);
    return add(n, VD_REPORT_OTHER, strlen(VD_REPORT_OTHER), id);
}

const char *vd__names_get(const vd_names_t *n, uint32_t id) {
    assert(id >= n->first && id - n->first < n->count);
    return n->name[id - n->first];
}

uint32_t vd__names_end(const vd_names_t *n) {
    return n->first + n->count;
}
