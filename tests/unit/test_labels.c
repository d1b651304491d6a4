/* Labels files (--labels): CSV and JSON lines, the accepted words, comments and headers, a
 * later label winning, errors naming FILE:LINE, and a large set. */
#include "replay/labels.h"
#include "vd_test.h"

#include "base/error.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int read_text(vd_labels_t *l, const char *text, char *err, size_t errlen) {
    FILE *f = fmemopen((void *)text, strlen(text), "r");
    CU_ASSERT_PTR_NOT_NULL_FATAL(f);
    int rc = vd_labels_read(l, f, "labels.csv", err, errlen);
    fclose(f);
    return rc;
}

static int get(const vd_labels_t *l, const char *key) {
    return vd_labels_get(l, key, strlen(key));
}

static void test_formats(void) {
    vd_labels_t *l = vd_labels_new();
    char err[256] = "";
    const char *text = "\xef\xbb\xbfkey,label\n"
                       "# confirmed by the abuse desk\n"
                       "\n"
                       "01JABC,bad\n"
                       "spammer@example.com , Spam \n"
                       "203.0.113.7,FRAUD\r\n"
                       "\"a,b \"\"quoted\"\"\",ham\n"
                       "   nice@example.com,legit\n"
                       "{\"id\": \"01JDEF\", \"label\": \"chargeback\", \"reporter\": \"bank\"}\n"
                       "{\"entity\": \"acct-9\", \"label\": true}\n"
                       "{\"entity\": 12345, \"label\": 0}\n"
                       "{\"id\": \"01JGHI\", \"label\": \"takeover\"}\n"
                       "01JGHI,good\n";
    CU_ASSERT_EQUAL(read_text(l, text, err, sizeof err), 0);
    if (err[0]) fprintf(stderr, "%s\n", err);
    CU_ASSERT_EQUAL(get(l, "01JABC"), 1);
    CU_ASSERT_EQUAL(get(l, "spammer@example.com"), 1);
    CU_ASSERT_EQUAL(get(l, "203.0.113.7"), 1);
    CU_ASSERT_EQUAL(get(l, "a,b \"quoted\""), 0);
    CU_ASSERT_EQUAL(get(l, "nice@example.com"), 0);
    CU_ASSERT_EQUAL(get(l, "01JDEF"), 1);
    CU_ASSERT_EQUAL(get(l, "acct-9"), 1);
    CU_ASSERT_EQUAL(get(l, "12345"), 0);
    CU_ASSERT_EQUAL(get(l, "01JGHI"), 0); /* the later line wins */
    CU_ASSERT_EQUAL(get(l, "key"), -1);   /* the header is not a label */
    CU_ASSERT_EQUAL(get(l, "unknown"), -1);
    CU_ASSERT_EQUAL(get(l, ""), -1);
    vd_labels_stats_t st;
    vd_labels_stats(l, &st);
    CU_ASSERT_EQUAL(st.keys, 9);
    CU_ASSERT_EQUAL(st.bad, 5);
    CU_ASSERT_EQUAL(st.good, 4);
    CU_ASSERT_EQUAL(st.relabelled, 1);
    vd_labels_free(l);
}

static void test_words(void) {
    const char *bad[] = {"bad",         "SPAM",      "fraud",      "abuse",
                         "abusive",     "malicious", "chargeback", "takeover",
                         "compromised", "positive",  "1",          "True"};
    const char *good[] = {"good",  "Ham",      "legit", "legitimate", "benign",
                          "clean", "negative", "0",     "false"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
        CU_ASSERT_EQUAL(vd_labels_word(bad[i], strlen(bad[i])), 1);
    for (size_t i = 0; i < sizeof good / sizeof *good; i++)
        CU_ASSERT_EQUAL(vd_labels_word(good[i], strlen(good[i])), 0);
    CU_ASSERT_EQUAL(vd_labels_word("yes", 3), -1);
    CU_ASSERT_EQUAL(vd_labels_word("badly", 5), -1);
    CU_ASSERT_EQUAL(vd_labels_word("ba", 2), -1);
    CU_ASSERT_EQUAL(vd_labels_word("", 0), -1);
}

static void test_errors(void) {
    static const struct {
        const char *text, *message;
    } cases[] = {
        {"a,bad\nb,maybe\n", "labels.csv:2: unknown label \"maybe\""},
        {"a,bad\n\n# c\nnocomma\n", "labels.csv:4: expected KEY,LABEL"},
        {"a,bad,extra\n", "labels.csv:1: expected two fields"},
        {",bad\n", "labels.csv:1: empty key"},
        {"\"open,bad\n", "labels.csv:1: a quoted key has no closing quote"},
        {"\"k\" x,bad\n", "labels.csv:1: expected KEY,LABEL"},
        {"{\"id\": \"x\"\n", "labels.csv:1: not JSON"},
        {"{\"label\": \"bad\"}\n", "labels.csv:1: missing \"id\" or \"entity\""},
        {"{\"id\": \"x\", \"entity\": \"y\", \"label\": \"bad\"}\n", "not both"},
        {"{\"id\": \"x\"}\n", "labels.csv:1: missing \"label\""},
        {"{\"id\": [1], \"label\": \"bad\"}\n", "must be a string or an integer"},
        {"{\"id\": \"\", \"label\": \"bad\"}\n", "empty \"id\""},
        {"{\"id\": \"x\", \"label\": 2}\n", "\"label\" must be"},
        {"{\"id\": \"x\", \"label\": \"nope\"}\n", "unknown label \"nope\""},
        {"{\"id\": \"x\", \"id\": \"y\", \"label\": \"bad\"}\n", "labels.csv:1: not JSON"},
        {"x,bad\nkey,label\n", "labels.csv:2: unknown label \"label\""}, /* header only first */
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        vd_labels_t *l = vd_labels_new();
        char err[256] = "";
        CU_ASSERT_EQUAL(read_text(l, cases[i].text, err, sizeof err), VD_EINVAL);
        if (!strstr(err, cases[i].message))
            fprintf(stderr, "case %zu: got \"%s\", want \"%s\"\n", i, err, cases[i].message);
        CU_ASSERT_PTR_NOT_NULL(strstr(err, cases[i].message));
        vd_labels_free(l);
    }
    vd_labels_t *l = vd_labels_new();
    char err[256];
    CU_ASSERT_EQUAL(vd_labels_load(l, "/nonexistent/labels.csv", err, sizeof err), VD_EIO);
    CU_ASSERT_PTR_NOT_NULL(strstr(err, "/nonexistent/labels.csv: "));
    CU_ASSERT_EQUAL(vd_labels_set(l, "k", 1, 2), VD_EINVAL);
    vd_labels_free(l);
}

/* Many keys: every one found with its label, none invented. */
static void test_many(void) {
    vd_labels_t *l = vd_labels_new();
    char key[32];
    const int n = 300000;
    int wrong = 0;
    for (int i = 0; i < n; i++) {
        int len = snprintf(key, sizeof key, "user%d@example.com", i);
        wrong += vd_labels_set(l, key, (size_t)len, i % 7 == 0) != 0;
    }
    for (int i = 0; i < n; i++) {
        int len = snprintf(key, sizeof key, "user%d@example.com", i);
        wrong += vd_labels_get(l, key, (size_t)len) != (i % 7 == 0);
        len = snprintf(key, sizeof key, "user%d@example.org", i);
        wrong += vd_labels_get(l, key, (size_t)len) != -1;
    }
    CU_ASSERT_EQUAL(wrong, 0);
    vd_labels_stats_t st;
    vd_labels_stats(l, &st);
    CU_ASSERT_EQUAL(st.keys, (size_t)n);
    CU_ASSERT_EQUAL(st.bad, (size_t)(n + 6) / 7);
    vd_labels_free(l);
}

void vd_suite_labels(void) {
    static const vd_test_t tests[] = {{"CSV and JSON lines", test_formats},
                                      {"label words", test_words},
                                      {"errors name FILE:LINE", test_errors},
                                      {"many keys", test_many},
                                      {NULL, NULL}};
    vd_add_suite("labels", tests);
}
