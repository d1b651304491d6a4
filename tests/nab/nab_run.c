/* nab-run: feeds every series of the NAB corpus to the anomaly store one value at a time, in
 * order (each score is written before the next value is read: no look-ahead), one fixed
 * configuration for all, and writes NAB-format results files:
 * OUT_DIR/<category>/verdict_<name>.csv with timestamp,value,anomaly_score,label.
 * Usage: nab-run DATA_DIR WINDOWS_JSON OUT_DIR */
#include "base/error.h"
#include "state/anomaly.h"

#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

/* Days since 1970-01-01 of a proleptic Gregorian date (the civil-from-days inverse). */
static int64_t days_from_civil(int y, int m, int d) {
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    int64_t yoe = y - era * 400;
    int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

/* The next number of s, which must be followed by sep (any character when sep is 0). */
static int field(const char **s, char sep, int *out) {
    char *end;
    long v = strtol(*s, &end, 10);
    if (end == *s || (sep && *end != sep)) return VD_EINVAL;
    *out = (int)v;
    *s = end + (sep != 0);
    return 0;
}

/* "2014-02-19 10:50:00" (NAB's timestamps, UTC) to Unix seconds. */
static int parse_time(const char *s, int64_t *out) {
    int y, mo, d, h, mi, se;
    if (!s || field(&s, '-', &y) || field(&s, '-', &mo) || field(&s, ' ', &d) ||
        field(&s, ':', &h) || field(&s, ':', &mi) || field(&s, 0, &se))
        return VD_EINVAL;
    *out = days_from_civil(y, mo, d) * 86400 + (int64_t)h * 3600 + (int64_t)mi * 60 + se;
    return 0;
}

/* Whether t falls in one of the series' windows (their bounds are timestamps too). */
static int in_window(json_t *windows, int64_t t) {
    size_t i;
    json_t *w;
    json_array_foreach(windows, i, w) {
        int64_t a, b;
        if (parse_time(json_string_value(json_array_get(w, 0)), &a) == 0 &&
            parse_time(json_string_value(json_array_get(w, 1)), &b) == 0 && a <= t && t <= b)
            return 1;
    }
    return 0;
}

/* mkdir -p of OUT_DIR/<category>: every folder on the way. */
static int make_dirs(const char *out_dir, const char *name) {
    char path[4096];
    const char *slash = strchr(name, '/');
    snprintf(path, sizeof path, "%s/%.*s", out_dir, slash ? (int)(slash - name) : 0, name);
    for (char *p = path + 1;; p++) {
        char c = *p;
        if (c != '/' && c != 0) continue;
        *p = 0;
        if (mkdir(path, 0755) != 0 && errno != EEXIST) return VD_EIO;
        *p = c;
        if (!c) return 0;
    }
}

/* One series, through the store under its own key. */
static int run_series(vd_store_t *a, const char *data_dir, const char *out_dir, const char *name,
                      json_t *windows) {
    char in_path[4096], out_path[4096], line[512];
    snprintf(in_path, sizeof in_path, "%s/%s", data_dir, name);
    const char *slash = strchr(name, '/');
    snprintf(out_path, sizeof out_path, "%s/%.*s/verdict_%s", out_dir,
             slash ? (int)(slash - name) : 0, name, slash ? slash + 1 : name);
    int dirs = make_dirs(out_dir, name);
    FILE *in = fopen(in_path, "r"), *out = dirs == 0 ? fopen(out_path, "w") : NULL;
    int rc = in && out ? 0 : VD_EIO;
    if (rc == 0 && !fgets(line, sizeof line, in)) rc = VD_EIO; /* the header */
    if (out) fputs("timestamp,value,anomaly_score,label\n", out);
    while (rc == 0 && fgets(line, sizeof line, in)) {
        char *comma = strchr(line, ',');
        int64_t t;
        if (!comma || parse_time(line, &t) != 0) {
            rc = VD_EINVAL;
            break;
        }
        *comma = 0;
        double v = strtod(comma + 1, NULL);
        vd_anomaly_result_t r;
        rc = vd_anomaly_observe(a, name, strlen(name), t, v, 0, &r);
        fprintf(out, "%s,%s,%.6f,%d\n", line, strtok(comma + 1, "\r\n"), r.score,
                in_window(windows, t));
    }
    if (in) fclose(in);
    if (out && fclose(out) != 0) rc = VD_EIO;
    if (rc != 0) fprintf(stderr, "nab-run: %s: %s\n", name, vd_strerror(rc));
    return rc;
}

int main(int argc, char **argv) {
    if (argc != 4) {
        fprintf(stderr, "usage: nab-run DATA_DIR WINDOWS_JSON OUT_DIR\n");
        return 2;
    }
    json_error_t err;
    json_t *all = json_load_file(argv[2], 0, &err);
    if (!all) {
        fprintf(stderr, "nab-run: %s:%d: %s\n", argv[2], err.line, err.text);
        return 1;
    }
    vd_store_t *a = vd_store_new((size_t)256 << 20);
    const char *name;
    json_t *windows;
    int rc = a ? 0 : VD_ENOMEM, series = 0;
    json_object_foreach(all, name, windows) {
        if (rc == 0) rc = run_series(a, argv[1], argv[3], name, windows);
        series++;
    }
    vd_store_stats_t st;
    if (a) vd_store_stats(a, &st);
    if (rc == 0)
        printf("nab-run: %d series, %llu bytes per series model\n", series,
               (unsigned long long)(st.entries ? st.bytes / st.entries : 0));
    vd_store_free(a);
    json_decref(all);
    return rc == 0 ? 0 : 1;
}
