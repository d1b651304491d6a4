#include "mpbuf.h"

void vd_mp_str_repaired(msgpack_sbuffer *sb, const char *s, size_t n) {
    size_t len = vd_utf8_repair(s, n, NULL);
    if (vd_mp_reserve(sb, len + 5) != 0) return;
    vd_mp_str_head(sb, len);
    vd_utf8_repair(s, n, sb->data + sb->size);
    sb->size += len;
}
