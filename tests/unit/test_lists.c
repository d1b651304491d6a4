/* List files: longest-prefix IP matching, domain suffixes, exact sets, bad lines, reloads. */
#include "state/list.h"
#include "state/prefix_table.h"
#include "vd_test.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static vd_ip_t ip(const char *s) {
    vd_ip_t a;
    CU_ASSERT_EQUAL_FATAL(vd_ip_parse(s, strlen(s), &a), 0);
    return a;
}

static vd_prefix_t px(const char *s, uint32_t id) {
    vd_prefix_t p = {.id = id};
    CU_ASSERT_EQUAL_FATAL(vd_cidr_parse(s, strlen(s), &p.cidr), 0);
    return p;
}

static uint32_t find(const vd_prefix_table_t *t, const char *s) {
    vd_ip_t a = ip(s);
    return vd_prefix_table_find(t, &a);
}

static void test_longest_prefix(void) {
    vd_prefix_t p[] = {px("10.0.0.0/8", 0),      px("10.1.0.0/16", 1),  px("10.1.2.0/24", 2),
                       px("10.1.2.3", 3),        px("192.0.2.0/24", 4), px("2001:db8::/32", 5),
                       px("2001:db8:1::/48", 6), px("10.1.0.0/16", 7),  px("0.0.0.0/0", 8)};
    vd_prefix_table_t t;
    CU_ASSERT_EQUAL_FATAL(vd_prefix_table_build(&t, p, sizeof p / sizeof *p), 0);
    CU_ASSERT_EQUAL(find(&t, "10.9.9.9"), 0);
    CU_ASSERT_EQUAL(find(&t, "10.1.9.9"), 7); /* duplicate: last */
    CU_ASSERT_EQUAL(find(&t, "10.1.2.4"), 2);
    CU_ASSERT_EQUAL(find(&t, "10.1.2.3"), 3);
    CU_ASSERT_EQUAL(find(&t, "10.1.3.0"), 7); /* after a nested one */
    CU_ASSERT_EQUAL(find(&t, "11.0.0.0"), 8);
    CU_ASSERT_EQUAL(find(&t, "255.255.255.255"), 8);
    CU_ASSERT_EQUAL(find(&t, "2001:db8:1::5"), 6);
    CU_ASSERT_EQUAL(find(&t, "2001:db8:2::5"), 5);
    CU_ASSERT_EQUAL(find(&t, "2001:db9::"), VD_PREFIX_NONE);
    CU_ASSERT_EQUAL(find(&t, "::ffff:10.1.2.3"), 3);
    vd_prefix_table_free(&t);
}

/* Random nested prefixes against a brute-force scan, large enough to use the bucket index. */
static void test_prefix_table_matches_scan(void) {
    enum { N = 3000, Q = 20000 };
    vd_prefix_t *p = malloc(N * sizeof *p), *copy = malloc(N * sizeof *p);
    srand(7);
    for (uint32_t i = 0; i < N; i++) {
        char s[64];
        int v6 = i % 5 == 0, bits = v6 ? 16 + rand() % 113 : 8 + rand() % 25;
        if (v6)
            snprintf(s, sizeof s, "2001:%x:%x::%x/%d", rand() % 4, rand() % 65536, rand() % 65536,
                     bits);
        else
            snprintf(s, sizeof s, "%d.%d.%d.%d/%d", 10 + rand() % 3, rand() % 4, rand() % 256,
                     rand() % 256, bits);
        p[i] = copy[i] = px(s, i);
    }
    vd_prefix_table_t t;
    CU_ASSERT_EQUAL_FATAL(vd_prefix_table_build(&t, p, N), 0);
    int wrong = 0;
    for (int q = 0; q < Q; q++) {
        char s[64];
        if (q % 5 == 0)
            snprintf(s, sizeof s, "2001:%x:%x::%x", rand() % 4, rand() % 65536, rand() % 65536);
        else
            snprintf(s, sizeof s, "%d.%d.%d.%d", 10 + rand() % 3, rand() % 4, rand() % 256,
                     rand() % 256);
        vd_ip_t a = ip(s);
        uint32_t want = VD_PREFIX_NONE;
        int best = -1;
        for (uint32_t i = 0; i < N; i++)
            if (vd_cidr_contains(&copy[i].cidr, &a) &&
                (copy[i].cidr.bits > best || (copy[i].cidr.bits == best && i > want))) {
                best = copy[i].cidr.bits;
                want = i;
            }
        wrong += vd_prefix_table_find(&t, &a) != want;
    }
    CU_ASSERT_EQUAL(wrong, 0);
    vd_prefix_table_free(&t);
    free(p);
    free(copy);
}

static char *write_list(const char *text) {
    static char path[64];
    snprintf(path, sizeof path, "/tmp/vd-list-XXXXXX");
    int fd = mkstemp(path);
    CU_ASSERT_FATAL(fd >= 0);
    CU_ASSERT_EQUAL(write(fd, text, strlen(text)), (ssize_t)strlen(text));
    close(fd);
    return path;
}

static int has(vd_list_ref_t *r, const char *s, const char **value) {
    vd_list_hit_t hit;
    static char buf[128];
    int found = vd_list_find(r, s, strlen(s), &hit);
    if (found && value) {
        snprintf(buf, sizeof buf, "%.*s=%.*s", (int)hit.entry_len, hit.entry, (int)hit.value_len,
                 hit.value);
        *value = buf;
    }
    return found;
}

static void test_domain_suffixes(void) {
    char *path = write_list("# disposable\n"
                            "Example.COM   throwaway  # trailing comment\n"
                            "*.wild.org\n"
                            ".dot.net.\n"
                            "deep.sub.example.com  deeper\n"
                            "\n   \t\n");
    vd_list_ref_t r;
    char err[256];
    CU_ASSERT_EQUAL_FATAL(vd_list_open(path, VD_LIST_DOMAIN, 0, &r, err, sizeof err), 0);
    const char *v = NULL;
    CU_ASSERT_EQUAL(vd_list_size(&r), 4);
    CU_ASSERT(has(&r, "example.com", &v) && strcmp(v, "example.com=throwaway") == 0);
    CU_ASSERT(has(&r, "MAIL.Example.com.", &v) && strcmp(v, "example.com=throwaway") == 0);
    CU_ASSERT(has(&r, "x.deep.sub.example.com", &v) &&
              strcmp(v, "deep.sub.example.com=deeper") == 0);
    CU_ASSERT(!has(&r, "notexample.com", NULL));
    CU_ASSERT(!has(&r, "com", NULL));
    CU_ASSERT(has(&r, "a.wild.org", NULL) && has(&r, "wild.org", NULL));
    CU_ASSERT(has(&r, "dot.net", &v) && strcmp(v, "dot.net=") == 0);
    vd_list_ref_close(&r);
    unlink(path);
}

static void test_exact_and_ip_lists(void) {
    char *path = write_list("Alice\nbob admin\n");
    vd_list_ref_t r, r2;
    char err[256];
    CU_ASSERT_EQUAL_FATAL(vd_list_open(path, VD_LIST_EXACT, 0, &r, err, sizeof err), 0);
    CU_ASSERT(has(&r, "Alice", NULL) && !has(&r, "alice", NULL) && has(&r, "bob", NULL));
    /* The same file twice is loaded once; as another kind it is another list. */
    CU_ASSERT_EQUAL_FATAL(vd_list_open(path, VD_LIST_EXACT, 0, &r2, err, sizeof err), 0);
    CU_ASSERT_PTR_EQUAL(r.data, r2.data);
    vd_list_ref_close(&r2);
    vd_list_ref_close(&r);
    unlink(path);
    path = write_list("203.0.113.0/24 hosting\n203.0.113.7 scanner\n2001:db8::/32\n");
    CU_ASSERT_EQUAL_FATAL(vd_list_open(path, VD_LIST_IP, 0, &r, err, sizeof err), 0);
    const char *v = NULL;
    CU_ASSERT(has(&r, "203.0.113.7", &v) && strcmp(v, "203.0.113.7=scanner") == 0);
    CU_ASSERT(has(&r, "203.0.113.8", &v) && strcmp(v, "203.0.113.0/24=hosting") == 0);
    CU_ASSERT(has(&r, "2001:db8::1", NULL) && !has(&r, "198.51.100.1", NULL));
    CU_ASSERT(!has(&r, "not an ip", NULL));
    vd_list_ref_close(&r);
    unlink(path);
}

static void test_bad_lines(void) {
    char *path = write_list("10.0.0.0/8\n\n300.1.2.3\n");
    vd_list_ref_t r;
    char err[256], want[128];
    CU_ASSERT_NOT_EQUAL(vd_list_open(path, VD_LIST_IP, 0, &r, err, sizeof err), 0);
    snprintf(want, sizeof want, "%s:3: not an IP address or CIDR prefix: '300.1.2.3'", path);
    CU_ASSERT_STRING_EQUAL(err, want);
    CU_ASSERT_EQUAL_FATAL(vd_list_open(path, VD_LIST_IP, 1, &r, err, sizeof err), 0);
    CU_ASSERT_EQUAL(vd_list_size(&r), 1);
    vd_list_ref_close(&r);
    unlink(path);
    path = write_list("ok.com\nbad..com\n");
    CU_ASSERT_NOT_EQUAL(vd_list_open(path, VD_LIST_DOMAIN, 0, &r, err, sizeof err), 0);
    CU_ASSERT_PTR_NOT_NULL(strstr(err, ":2: not a domain name: 'bad..com'"));
    unlink(path);
    CU_ASSERT_NOT_EQUAL(vd_list_open("/nonexistent/list", VD_LIST_EXACT, 0, &r, err, sizeof err),
                        0);
    CU_ASSERT_PTR_NOT_NULL(strstr(err, "No such file"));
}

static void rewrite(const char *path, const char *text) {
    char tmp[96];
    snprintf(tmp, sizeof tmp, "%s.new", path);
    FILE *f = fopen(tmp, "w");
    fputs(text, f);
    fclose(f);
    rename(tmp, path); /* the way list files should be replaced */
}

static void test_reload_on_change(void) {
    char *path = write_list("a.com\n");
    vd_list_ref_t r;
    char err[256];
    CU_ASSERT_EQUAL_FATAL(vd_list_open(path, VD_LIST_DOMAIN, 0, &r, err, sizeof err), 0);
    rewrite(path, "b.com\nc.com\n");
    vd_lists_check(); /* seen once: not settled yet */
    CU_ASSERT(has(&r, "a.com", NULL));
    vd_lists_check(); /* the same twice: rebuilt */
    CU_ASSERT(!has(&r, "a.com", NULL) && has(&r, "x.c.com", NULL));
    CU_ASSERT_EQUAL(vd_list_size(&r), 2);
    rewrite(path, "d.com\nbad..domain\n"); /* a bad version: the old one stays */
    vd_lists_check();
    vd_lists_check();
    CU_ASSERT(has(&r, "b.com", NULL) && !has(&r, "d.com", NULL));
    vd_list_ref_close(&r);
    unlink(path);
}

typedef struct opener {
    const char *path;
    vd_list_ref_t ref;
    int rc;
} opener_t;

static void *open_in_thread(void *arg) {
    opener_t *o = arg;
    char err[256];
    o->rc = vd_list_open(o->path, VD_LIST_EXACT, 0, &o->ref, err, sizeof err);
    return NULL;
}

/* Policy copies compile on several threads: a file is loaded once; opening it again after it
 * changed (a policy reload) loads the new version at once. */
static void test_concurrent_open_and_reopen(void) {
    char *path = write_list("a\nb\n");
    opener_t o[4];
    pthread_t t[4];
    for (int i = 0; i < 4; i++) {
        o[i] = (opener_t){.path = path};
        pthread_create(&t[i], NULL, open_in_thread, &o[i]);
    }
    for (int i = 0; i < 4; i++)
        pthread_join(t[i], NULL);
    for (int i = 0; i < 4; i++) {
        CU_ASSERT_EQUAL(o[i].rc, 0);
        CU_ASSERT_PTR_EQUAL(o[i].ref.data, o[0].ref.data);
    }
    rewrite(path, "c\n");
    vd_list_ref_t again;
    char err[256];
    CU_ASSERT_EQUAL_FATAL(vd_list_open(path, VD_LIST_EXACT, 0, &again, err, sizeof err), 0);
    CU_ASSERT(has(&again, "c", NULL) && !has(&again, "a", NULL));
    CU_ASSERT(has(&o[1].ref, "c", NULL)); /* older handles move on at their next lookup */
    vd_list_ref_close(&again);
    for (int i = 0; i < 4; i++)
        vd_list_ref_close(&o[i].ref);
    unlink(path);
}

typedef struct info_of {
    const char *path;
    uint64_t errors;
    char error[512];
} info_of_t;

static void find_info(const vd_list_info_t *info, size_t i, size_t n, void *arg) {
    info_of_t *o = arg;
    (void)i;
    (void)n;
    if (strcmp(info->path, o->path) != 0) return;
    o->errors = info->errors;
    snprintf(o->error, sizeof o->error, "%s", info->error);
}

/* A policy reload opens its lists again: a file that no longer parses keeps the version held,
 * the open succeeds, and the refusal is counted (and logged) once however often it is seen. */
static void test_reopen_of_a_broken_file_keeps_the_old_version(void) {
    char *path = write_list("a\n");
    vd_list_ref_t r, again;
    char err[256];
    CU_ASSERT_EQUAL_FATAL(vd_list_open(path, VD_LIST_DOMAIN, 0, &r, err, sizeof err), 0);
    rewrite(path, "b.com\nbad..com\n");
    CU_ASSERT_EQUAL_FATAL(vd_list_open(path, VD_LIST_DOMAIN, 0, &again, err, sizeof err), 0);
    CU_ASSERT(has(&again, "a", NULL) && !has(&again, "b.com", NULL));
    vd_list_ref_close(&again);
    vd_lists_check();
    vd_lists_check(); /* the same broken file: not read again */
    info_of_t o = {.path = path};
    vd_lists_each(find_info, &o);
    CU_ASSERT_EQUAL(o.errors, 1);
    CU_ASSERT_PTR_NOT_NULL(strstr(o.error, ":2: not a domain name: 'bad..com'"));
    rewrite(path, "c.com\n"); /* fixed: loaded at the next open, and the error is gone */
    CU_ASSERT_EQUAL_FATAL(vd_list_open(path, VD_LIST_DOMAIN, 0, &again, err, sizeof err), 0);
    CU_ASSERT(has(&r, "x.c.com", NULL) && !has(&r, "a", NULL));
    vd_lists_each(find_info, &o);
    CU_ASSERT_STRING_EQUAL(o.error, "");
    vd_list_ref_close(&again);
    vd_list_ref_close(&r);
    unlink(path);
}

static void test_policy_lists(void) {
    static const char *const files[] = {
        "lists/blocked.txt", "198.51.100.0/24 bad-net\n", "main.lua",
        "local nets = verdict.list('lists/blocked.txt', 'ip')\n"
        "local same = verdict.list.ips 'lists/blocked.txt'\n"
        "assert(#same == 1 and same:has('198.51.100.1') and not same:has('192.0.2.1'))\n"
        "assert(verdict.list.domains('lists/blocked.txt', {skip_bad_lines = true}):has('x') == "
        "false)\n"
        "rule 'blocked' { score = 5,\n"
        "  when = function(ev) local e, v = nets:match(ev.ip); return e ~= nil, v end }\n"
        "pipeline 'p' { stages = { stage 's' { 'blocked' } }, actions = { block = 5 } }\n",
        NULL};
    vd_policy_t *p = NULL;
    char err[512];
    int rc = vd_test_load(files, &p, err, sizeof err);
    if (rc) fprintf(stderr, "%s\n", err);
    CU_ASSERT_EQUAL_FATAL(rc, 0);
    vd_test_run_t run;
    vd_test_run(&run, p, "p", (const char *const[]){"ip", "198.51.100.9", NULL});
    CU_ASSERT_STRING_EQUAL(run.d.action, "block");
    vd_test_run_free(&run);
    vd_policy_unref(p);
    static const char *const bad[] = {"lists/blocked.txt", "198.51.100.0/24\nnope\n", "main.lua",
                                      "\nlocal nets = verdict.list('lists/blocked.txt', 'ip')\n",
                                      NULL};
    CU_ASSERT_NOT_EQUAL(vd_test_load(bad, &p, err, sizeof err), 0);
    CU_ASSERT_PTR_NOT_NULL(strstr(err, "main.lua:2: verdict.list: "));
    CU_ASSERT_PTR_NOT_NULL(strstr(err, "blocked.txt:2: not an IP address or CIDR prefix: 'nope'"));
    static const char *const kind[] = {"l.txt", "x\n", "main.lua", "verdict.list('l.txt', 'cidr')",
                                       NULL};
    CU_ASSERT_NOT_EQUAL(vd_test_load(kind, &p, err, sizeof err), 0);
    CU_ASSERT_PTR_NOT_NULL(strstr(err, "unknown kind 'cidr' (known: ip, domain, exact)"));
}

void vd_suite_lists(void) {
    static const vd_test_t tests[] = {
        {"the longest prefix wins", test_longest_prefix},
        {"prefix table agrees with a scan", test_prefix_table_matches_scan},
        {"domains match their subdomains", test_domain_suffixes},
        {"exact and IP lists, shared when opened twice", test_exact_and_ip_lists},
        {"bad lines are reported with file:line", test_bad_lines},
        {"a changed file is reloaded once settled", test_reload_on_change},
        {"opened at once on threads, reopened after a change", test_concurrent_open_and_reopen},
        {"a reopened broken file keeps the old version",
         test_reopen_of_a_broken_file_keeps_the_old_version},
        {"policies load lists", test_policy_lists},
        {NULL, NULL}};
    vd_add_suite("lists", tests);
}
