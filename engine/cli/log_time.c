#include "log_time.h"

#include <string.h>

/* Reads exactly n digits at *p (advancing it); -1 when they are not all digits. */
static int num(const char **p, const char *end, int n) {
    int v = 0;
    if (end - *p < n) return -1;
    for (int i = 0; i < n; i++, (*p)++) {
        if (**p < '0' || **p > '9') return -1;
        v = v * 10 + (**p - '0');
    }
    return v;
}

static int expect(const char **p, const char *end, const char *one_of) {
    if (*p >= end || !**p || !strchr(one_of, **p)) return -1;
    (*p)++;
    return 0;
}

static int month_days(int y, int m) {
    static const int days[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    int leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    return days[m - 1] + (m == 2 && leap);
}

/* Days from 1970-01-01 to y-m-d in the proleptic Gregorian calendar (H. Hinnant's algorithm):
 * no timegm, no time zone of the machine. */
static int64_t days_from_civil(int y, int m, int d) {
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    int64_t yoe = y - era * 400;
    int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

/* The clock part after 'T': hh:mm:ss(.fff...)(Z|+hh:mm|-hh:mm), as milliseconds into the day
 * (the offset applied: it may fall outside the day). */
static int clock_part(const char *p, const char *end, int64_t *ms) {
    int h = num(&p, end, 2), mi, sec, frac = 0;
    if (h < 0 || expect(&p, end, ":") || (mi = num(&p, end, 2)) < 0 || expect(&p, end, ":") ||
        (sec = num(&p, end, 2)) < 0 || h > 23 || mi > 59 || sec > 60)
        return -1;
    if (p < end && *p == '.') {
        int ndig = 0;
        for (p++; p < end && *p >= '0' && *p <= '9'; p++, ndig++)
            if (ndig < 3) frac = frac * 10 + (*p - '0');
        if (ndig == 0) return -1;
        for (; ndig < 3; ndig++)
            frac *= 10;
    }
    int64_t offset_min = 0;
    if (p < end && (*p == '+' || *p == '-')) {
        int sign = *p++ == '-' ? -1 : 1, oh, om;
        if ((oh = num(&p, end, 2)) < 0 || expect(&p, end, ":") || (om = num(&p, end, 2)) < 0 ||
            oh > 23 || om > 59)
            return -1;
        offset_min = (int64_t)sign * (oh * 60 + om);
    } else if (expect(&p, end, "Zz")) {
        return -1;
    }
    if (p != end) return -1;
    *ms = ((int64_t)h * 3600 + (int64_t)mi * 60 + sec - offset_min * 60) * 1000 + frac;
    return 0;
}

int vd_log_time_parse(const char *s, size_t n, int64_t *ms) {
    const char *p = s, *end = s + n;
    int y = num(&p, end, 4), m, d;
    if (y < 0 || expect(&p, end, "-") || (m = num(&p, end, 2)) < 1 || m > 12 ||
        expect(&p, end, "-") || (d = num(&p, end, 2)) < 1 || d > month_days(y, m))
        return -1;
    int64_t day_ms = days_from_civil(y, m, d) * 86400000, in_day = 0;
    if (p < end && (expect(&p, end, "Tt ") || clock_part(p, end, &in_day))) return -1;
    *ms = day_ms + in_day;
    return 0;
}

int vd_log_time_arg(const char *arg, int64_t now_ms, int64_t *ms) {
    if (vd_log_time_parse(arg, strlen(arg), ms) == 0) return 0;
    int64_t total = 0;
    const char *p = arg;
    if (!*p) return -1;
    while (*p) {
        int64_t v = 0;
        const char *digits = p;
        for (; *p >= '0' && *p <= '9'; p++)
            if ((v = v * 10 + (*p - '0')) > 100000000) return -1; /* centuries of seconds */
        int64_t unit = *p == 's'   ? 1000
                       : *p == 'm' ? 60000
                       : *p == 'h' ? 3600000
                       : *p == 'd' ? 86400000
                       : *p == 'w' ? 604800000
                                   : 0;
        if (p == digits || !unit) return -1;
        if ((total += v * unit) > 1000 * 86400000LL * 366) return -1; /* a thousand years */
        p++;
    }
    *ms = now_ms - total;
    return 0;
}
