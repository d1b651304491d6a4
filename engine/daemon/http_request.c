#include "http_request.h"

#include <string.h>

/* Where the header ends (after its blank line), or NULL. Lines may end in CRLF or LF. */
static const char *header_end(const char *buf, size_t len) {
    for (size_t i = 0; i + 1 < len; i++) {
        if (buf[i] != '\n') continue;
        if (buf[i + 1] == '\n') return buf + i + 2;
        if (buf[i + 1] == '\r' && i + 2 < len && buf[i + 2] == '\n') return buf + i + 3;
    }
    return NULL;
}

/* Header bytes are printable ASCII, tabs and line ends (RFC 9110 field values also allow
 * bytes over 0x7f; a metrics request has no use for them, but they do no harm). */
static int clean(const char *p, const char *end) {
    for (; p < end; p++) {
        unsigned char c = (unsigned char)*p;
        if (c < 0x20 && c != '\t' && c != '\r' && c != '\n') return 0;
        if (c == 0x7f) return 0;
    }
    return 1;
}

static int starts(const char *p, const char *end, const char *word) {
    size_t n = strlen(word);
    return (size_t)(end - p) >= n && memcmp(p, word, n) == 0;
}

vd_http_request_t vd_http_request_read(const char *buf, size_t len) {
    vd_http_request_t r = {VD_HTTP_INCOMPLETE, 0};
    /* A control byte in the header is refused as soon as it arrives, not after a timeout;
     * what follows the header does not count (it is never read). */
    const char *end = header_end(buf, len);
    if (!clean(buf, end ? end : buf + len)) return r.verdict = VD_HTTP_BAD, r;
    if (!end) return r;
    const char *line_end = memchr(buf, '\n', (size_t)(end - buf));
    const char *sp1 = memchr(buf, ' ', (size_t)(line_end - buf));
    const char *sp2 = sp1 ? memchr(sp1 + 1, ' ', (size_t)(line_end - sp1 - 1)) : NULL;
    if (!sp1 || !sp2 || sp1 == buf || sp2 == sp1 + 1 || !starts(sp2 + 1, line_end, "HTTP/1."))
        return r.verdict = VD_HTTP_BAD, r;
    size_t mlen = (size_t)(sp1 - buf);
    int get = mlen == 3 && memcmp(buf, "GET", 3) == 0;
    r.head = mlen == 4 && memcmp(buf, "HEAD", 4) == 0;
    if (!get && !r.head) return r.verdict = VD_HTTP_METHOD, r;
    const char *path = sp1 + 1;
    size_t plen = (size_t)(sp2 - path);
    int metrics = plen >= 8 && memcmp(path, "/metrics", 8) == 0 && (plen == 8 || path[8] == '?');
    r.verdict = metrics ? VD_HTTP_METRICS : VD_HTTP_NOT_FOUND;
    return r;
}
