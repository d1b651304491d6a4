#include "stats.h"

#include "features.h"
#include "hostset.h"

#include <stdlib.h>
#include <string.h>

const char *const tc_stat_names[TC_NSTATS] = {"text_bytes",
                                              "html_fraction",
                                              "texts",
                                              "other_parts",
                                              "urls",
                                              "hosts",
                                              "caps_ratio",
                                              "digit_ratio",
                                              "exclaim_ratio",
                                              "dollar_ratio",
                                              "caps_run_longest",
                                              "caps_run_mean",
                                              "caps_run_total",
                                              "subject_len",
                                              "subject_caps_ratio",
                                              "subject_exclaim",
                                              "headers",
                                              "received",
                                              "has_message_id",
                                              "has_date",
                                              "has_x_mailer",
                                              "nonascii_ratio"};

static int upper(unsigned char c) {
    return c >= 'A' && c <= 'Z';
}

static int letter(unsigned char c) {
    return upper(c) || (c >= 'a' && c <= 'z');
}

static double at_least_1(size_t n) {
    return n ? (double)n : 1.0;
}

/* Counts the hosts of one text and adds them to the distinct ones (url rules of section 3). */
static void count_hosts(const tc_buf_t *t, tc_hostset_t *seen, size_t *total, int *oom) {
    tc_buf_t hosts = {0};
    tc_url_hosts(t->p, t->len, &hosts); /* NUL-separated list */
    for (size_t i = 0; i < hosts.len;) {
        const char *h = (const char *)hosts.p + i;
        size_t len = strlen(h);
        (*total)++;
        tc_hostset_add(seen, h, len);
        i += len + 1;
    }
    *oom |= hosts.oom | seen->oom;
    tc_free(&hosts);
}

static void text_stats(const tc_buf_t *plain, double *out) {
    size_t letters = 0, up = 0, digits = 0, excl = 0, dollar = 0, nonascii = 0;
    size_t longest = 0, runs = 0, run_total = 0, run = 0;
    for (size_t i = 0; i <= plain->len; i++) {
        unsigned char c = i < plain->len ? plain->p[i] : 0;
        if (i < plain->len) {
            letters += letter(c);
            up += upper(c);
            digits += c >= '0' && c <= '9';
            excl += c == '!';
            dollar += c == '$';
            nonascii += c >= 0x80;
        }
        if (i < plain->len && upper(c)) {
            run++;
        } else if (run) {
            runs++;
            run_total += run;
            if (run > longest) longest = run;
            run = 0;
        }
    }
    double n = at_least_1(plain->len);
    out[6] = (double)up / at_least_1(letters);
    out[7] = (double)digits / n;
    out[8] = (double)excl / n;
    out[9] = (double)dollar / n;
    out[10] = (double)longest;
    out[11] = runs ? (double)run_total / (double)runs : 0.0;
    out[12] = (double)run_total;
    out[21] = (double)nonascii / n;
}

static void header_stats(const tc_pieces_t *pc, double *out) {
    const tc_header_t *subject = NULL;
    size_t received = 0;
    int mid = 0, date = 0, mailer = 0;
    for (size_t i = 0; i < pc->nheaders; i++) {
        const char *name = pc->headers[i].name;
        if (!subject && strcmp(name, "subject") == 0) subject = &pc->headers[i];
        received += strcmp(name, "received") == 0;
        mid |= strcmp(name, "message-id") == 0;
        date |= strcmp(name, "date") == 0;
        mailer |= strcmp(name, "x-mailer") == 0;
    }
    size_t s_letters = 0, s_upper = 0, s_excl = 0, s_len = subject ? subject->value.len : 0;
    for (size_t i = 0; i < s_len; i++) {
        unsigned char c = subject->value.p[i];
        s_letters += letter(c);
        s_upper += upper(c);
        s_excl += c == '!';
    }
    out[13] = (double)s_len;
    out[14] = (double)s_upper / at_least_1(s_letters);
    out[15] = (double)s_excl;
    out[16] = (double)pc->nheaders;
    out[17] = (double)received;
    out[18] = mid;
    out[19] = date;
    out[20] = mailer;
}

int tc_stats(const tc_pieces_t *pc, double out[TC_NSTATS]) {
    tc_buf_t plain = {0};
    size_t html_bytes = 0, raw_bytes = 0, urls = 0;
    tc_hostset_t seen = {0};
    int oom = 0;
    for (size_t i = 0; i < pc->ntexts; i++) {
        const tc_text_t *t = &pc->texts[i];
        raw_bytes += t->text.len;
        count_hosts(&t->text, &seen, &urls, &oom);
        if (t->html) {
            html_bytes += t->text.len;
            tc_strip_html(t->text.p, t->text.len, &plain);
        } else {
            tc_put(&plain, t->text.p, t->text.len);
        }
        tc_putc(&plain, '\n');
    }
    memset(out, 0, TC_NSTATS * sizeof *out);
    out[0] = (double)plain.len;
    out[1] = (double)html_bytes / at_least_1(raw_bytes);
    out[2] = (double)pc->ntexts;
    out[3] = (double)pc->ntypes;
    out[4] = (double)urls;
    out[5] = (double)seen.count;
    text_stats(&plain, out);
    header_stats(pc, out);
    tc_hostset_free(&seen);
    oom |= plain.oom;
    tc_free(&plain);
    return oom ? -1 : 0;
}
