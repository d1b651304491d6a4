#include "redis_send.h"

#include <stdlib.h>
#include <string.h>

char *vd_redis_put_int(char *out, int64_t v) {
    if (v >= 0 && v < 100) { /* argument counts and lengths, mostly */
        if (v >= 10) *out++ = (char)('0' + v / 10);
        *out++ = (char)('0' + v % 10);
        return out;
    }
    char digits[20];
    int n = 0;
    uint64_t u = v < 0 ? 0 - (uint64_t)v : (uint64_t)v;
    do {
        digits[n++] = (char)('0' + u % 10);
        u /= 10;
    } while (u);
    if (v < 0) *out++ = '-';
    while (n)
        *out++ = digits[--n];
    return out;
}

size_t vd_redis_format_size(int argc, const size_t *lens) {
    size_t need = 24; /* "*<argc>\r\n" */
    for (int i = 0; i < argc; i++)
        need += lens[i] + 26; /* "$<len>\r\n" <bytes> "\r\n" */
    return need;
}

size_t vd_redis_format(char *out, int argc, const char **argv, const size_t *lens) {
    char *o = out;
    *o++ = '*';
    o = vd_redis_put_int(o, argc);
    *o++ = '\r', *o++ = '\n';
    for (int i = 0; i < argc; i++) {
        *o++ = '$';
        o = vd_redis_put_int(o, (int64_t)lens[i]);
        *o++ = '\r', *o++ = '\n';
        memcpy(o, argv[i], lens[i]);
        o += lens[i];
        *o++ = '\r', *o++ = '\n';
    }
    return (size_t)(o - out);
}

int vd_redis_send(redisAsyncContext *ac, redisCallbackFn *fn, void *priv, int argc,
                  const char **argv, const size_t *lens) {
    size_t need = vd_redis_format_size(argc, lens);
    char stack[4096], *buf = need <= sizeof stack ? stack : malloc(need);
    if (!buf) return REDIS_ERR;
    size_t len = vd_redis_format(buf, argc, argv, lens);
    int rc = redisAsyncFormattedCommand(ac, fn, priv, buf, len);
    if (buf != stack) free(buf);
    return rc;
}
