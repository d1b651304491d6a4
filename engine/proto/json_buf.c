#include "json_buf.h"

#include "json_write.h"
#include "mpbuf.h"

char *vd_json__grow(vd_jbuf_t *j, size_t n) {
    if (j->failed || j->fixed || n == SIZE_MAX || vd_mp_reserve(j->sb, n) != 0) {
        j->failed = 1;
        return NULL;
    }
    return j->sb->data + j->sb->size;
}

void vd_json_msgpack(vd_jbuf_t *j, const char *p, size_t n) {
    /* the room vd_mp_to_json takes, asked here so that a fixed buffer fails instead of growing */
    if (n > (SIZE_MAX - 64) / VD_JSON_GROWTH || !vd_json_room(j, VD_JSON_GROWTH * n + 64)) {
        j->failed = 1;
        return;
    }
    if (!n || vd_mp_to_json(j->sb, p, n) != n) j->failed = 1; /* none: no memory */
}
