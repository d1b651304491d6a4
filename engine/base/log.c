#include "log.h"

#include "error.h"

#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

/* Written once at startup; atomic so that late readers in worker threads are well-defined. */
static _Atomic int min_level = VD_LOG_INFO;

static const char *const level_names[] = {"debug", "info", "warn", "error"};

int vd_log_limit_pass(vd_log_limit_t *l, int64_t interval_ns, int64_t now_ns,
                      unsigned long long *skipped) {
    if (l->logged_ns && now_ns - l->logged_ns < interval_ns) {
        l->skipped++;
        return 0;
    }
    *skipped = l->skipped;
    l->logged_ns = now_ns;
    l->skipped = 0;
    return 1;
}

void vd_log_set_level(vd_log_level_t level) {
    atomic_store(&min_level, (int)level);
}

int vd_log_parse_level(const char *name, vd_log_level_t *out) {
    for (int i = 0; i <= VD_LOG_ERROR; i++) {
        if (strcmp(name, level_names[i]) == 0) {
            *out = (vd_log_level_t)i;
            return 0;
        }
    }
    return VD_EINVAL;
}

void vd_log(vd_log_level_t level, const char *fmt, ...) {
    if ((int)level < atomic_load_explicit(&min_level, memory_order_relaxed)) return;
    char line[2048];
    struct timespec ts;
    struct tm tm;
    clock_gettime(CLOCK_REALTIME, &ts);
    gmtime_r(&ts.tv_sec, &tm);
    int n = snprintf(line, sizeof line, "%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ %-5s ",
                     tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
                     ts.tv_nsec / 1000000, level_names[level]);
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line + n, sizeof line - (size_t)n - 1, fmt, ap);
    va_end(ap);
    /* One fputs per line keeps lines from different threads whole. */
    size_t len = strlen(line);
    line[len] = '\n';
    line[len + 1] = '\0';
    fputs(line, stderr);
}
