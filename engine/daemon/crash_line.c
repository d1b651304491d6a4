#include "crash_line.h"

#include <errno.h>
#include <time.h>
#include <unistd.h>

static void put(vd_crash_line_t *l, char c) {
    if (l->len < sizeof l->buf - 1) l->buf[l->len++] = c;
}

void vd_crash_line_str(vd_crash_line_t *l, const char *s) {
    for (s = s ? s : "?"; *s; s++)
        put(l, *s);
}

/* v in decimal, at least width digits. */
static void dec_width(vd_crash_line_t *l, uint64_t v, int width) {
    char d[24];
    int n = 0;
    do {
        d[n++] = (char)('0' + v % 10);
        v /= 10;
    } while (v || n < width);
    while (n)
        put(l, d[--n]);
}

void vd_crash_line_dec(vd_crash_line_t *l, uint64_t v) {
    dec_width(l, v, 1);
}

void vd_crash_line_hex(vd_crash_line_t *l, uint64_t v) {
    char d[16];
    int n = 0;
    do {
        d[n++] = "0123456789abcdef"[v & 15];
        v >>= 4;
    } while (v);
    vd_crash_line_str(l, "0x");
    while (n)
        put(l, d[--n]);
}

/* Days since 1970-01-01 to a civil date (Howard Hinnant's algorithm): gmtime_r is not
 * async-signal-safe. */
static void civil(int64_t days, int64_t *y, unsigned *m, unsigned *d) {
    days += 719468;
    int64_t era = (days >= 0 ? days : days - 146096) / 146097;
    unsigned doe = (unsigned)(days - era * 146097);
    unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    unsigned mp = (5 * doy + 2) / 153;
    *d = doy - (153 * mp + 2) / 5 + 1;
    *m = mp < 10 ? mp + 3 : mp - 9;
    *y = (int64_t)yoe + era * 400 + (*m <= 2);
}

void vd_crash_line_start(vd_crash_line_t *l) {
    struct timespec ts;
    l->len = 0;
    clock_gettime(CLOCK_REALTIME, &ts);
    int64_t y, secs = ts.tv_sec % 86400;
    unsigned m, d;
    civil(ts.tv_sec / 86400, &y, &m, &d);
    dec_width(l, (uint64_t)y, 4);
    put(l, '-');
    dec_width(l, m, 2);
    put(l, '-');
    dec_width(l, d, 2);
    put(l, 'T');
    dec_width(l, (uint64_t)(secs / 3600), 2);
    put(l, ':');
    dec_width(l, (uint64_t)(secs / 60 % 60), 2);
    put(l, ':');
    dec_width(l, (uint64_t)(secs % 60), 2);
    put(l, '.');
    dec_width(l, (uint64_t)(ts.tv_nsec / 1000000), 3);
    vd_crash_line_str(l, "Z error ");
}

void vd_crash_line_end(vd_crash_line_t *l) {
    l->buf[l->len++] = '\n'; /* put() kept a byte for it */
    const char *p = l->buf;
    size_t n = l->len;
    while (n > 0) {
        ssize_t w = write(STDERR_FILENO, p, n);
        if (w < 0 && errno == EINTR) continue;
        if (w <= 0) break;
        p += w;
        n -= (size_t)w;
    }
    l->len = 0;
}
