#include "base/ipaddr.h"
#include "vd_test.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static vd_ip_t ip(const char *s) {
    vd_ip_t a;
    CU_ASSERT_EQUAL(vd_ip_parse(s, strlen(s), &a), 0);
    return a;
}

static vd_cidr_t net(const char *s) {
    vd_cidr_t c;
    CU_ASSERT_EQUAL(vd_cidr_parse(s, strlen(s), &c), 0);
    return c;
}

static void test_parse(void) {
    vd_ip_t a;
    CU_ASSERT(ip("203.0.113.7").v4);
    CU_ASSERT(!ip("2001:db8::1").v4);
    CU_ASSERT(ip("::ffff:10.1.2.3").v4);
    CU_ASSERT_NOT_EQUAL(vd_ip_parse("300.1.1.1", 9, &a), 0);
    CU_ASSERT_NOT_EQUAL(vd_ip_parse("", 0, &a), 0);
    CU_ASSERT_NOT_EQUAL(vd_ip_parse("1.2.3", 5, &a), 0);
    char buf[64];
    a = ip("::ffff:10.1.2.3");
    vd_ip_format(&a, buf, sizeof buf);
    CU_ASSERT_STRING_EQUAL(buf, "10.1.2.3");
}

/* The IPv4 fast path agrees with inet_pton and inet_ntop, on odd text and on random bytes. */
static void test_agrees_with_libc(void) {
    const char *odd[] = {"0.0.0.0",    "255.255.255.255", "01.2.3.4", "1.2.3.04",
                         "1.2.3.256",  "1.2.3.4.",        ".1.2.3.4", "1..2.3",
                         "1.2.3.4 ",   " 1.2.3.4",        "1.2.3.-4", "1.2.3.4/8",
                         "1234.1.1.1", "0.00.0.0",        "1.2.3.4x", "999.0.0.0"};
    for (size_t i = 0; i < sizeof odd / sizeof *odd; i++) {
        vd_ip_t a;
        unsigned char want[4];
        int ok = inet_pton(AF_INET, odd[i], want) == 1;
        int got = vd_ip_parse(odd[i], strlen(odd[i]), &a) == 0 && a.v4;
        CU_ASSERT_EQUAL(got, ok);
        if (ok && got) CU_ASSERT_EQUAL(memcmp(a.b + 12, want, 4), 0);
    }
    srand(7);
    for (int i = 0; i < 20000; i++) {
        unsigned char b[4] = {(unsigned char)rand(), (unsigned char)rand(), (unsigned char)rand(),
                              (unsigned char)rand()};
        char text[32], want[32];
        snprintf(text, sizeof text, "%u.%u.%u.%u", b[0], b[1], b[2], b[3]);
        inet_ntop(AF_INET, b, want, sizeof want);
        vd_ip_t a = ip(text);
        char got[64];
        CU_ASSERT_EQUAL(vd_ip_format(&a, got, sizeof got), strlen(want));
        CU_ASSERT_STRING_EQUAL(got, want);
        vd_cidr_t c;
        vd_cidr_of(&a, i % 33, &c);
        char viatext[64], direct[64];
        snprintf(viatext, sizeof viatext, "%s/%d", want, i % 33);
        vd_cidr_t parsed = net(viatext);
        vd_cidr_format(&parsed, viatext, sizeof viatext);
        vd_cidr_format(&c, direct, sizeof direct);
        CU_ASSERT_STRING_EQUAL(direct, viatext);
    }
}

static void test_cidr_v4(void) {
    vd_cidr_t c = net("10.0.0.0/8");
    vd_ip_t in = ip("10.200.3.4"), out = ip("11.0.0.1");
    CU_ASSERT(vd_cidr_contains(&c, &in));
    CU_ASSERT(!vd_cidr_contains(&c, &out));
    vd_cidr_t odd = net("192.168.1.77/26"); /* host bits are cleared */
    vd_ip_t a = ip("192.168.1.64"), b = ip("192.168.1.128");
    CU_ASSERT(vd_cidr_contains(&odd, &a));
    CU_ASSERT(!vd_cidr_contains(&odd, &b));
    char buf[64];
    vd_cidr_format(&odd, buf, sizeof buf);
    CU_ASSERT_STRING_EQUAL(buf, "192.168.1.64/26");
    vd_cidr_t all = net("0.0.0.0/0");
    CU_ASSERT(vd_cidr_contains(&all, &out));
    vd_ip_t v6 = ip("2001:db8::1");
    CU_ASSERT(!vd_cidr_contains(&all, &v6));
}

static void test_cidr_v6(void) {
    vd_cidr_t c = net("2001:db8::/32");
    vd_ip_t in = ip("2001:db8:ffff::1"), out = ip("2001:db9::1");
    CU_ASSERT(vd_cidr_contains(&c, &in));
    CU_ASSERT(!vd_cidr_contains(&c, &out));
    vd_cidr_t host = net("2001:db8::5");
    vd_ip_t same = ip("2001:db8:0::5");
    CU_ASSERT(vd_cidr_contains(&host, &same));
    vd_cidr_t bad;
    CU_ASSERT_NOT_EQUAL(vd_cidr_parse("10.0.0.0/33", 11, &bad), 0);
    CU_ASSERT_NOT_EQUAL(vd_cidr_parse("2001:db8::/129", 14, &bad), 0);
    CU_ASSERT_NOT_EQUAL(vd_cidr_parse("10.0.0.0/", 9, &bad), 0);
}

void vd_suite_ipaddr(void) {
    static const vd_test_t tests[] = {{"parse and format", test_parse},
                                      {"IPv4 as libc reads and writes it", test_agrees_with_libc},
                                      {"IPv4 prefixes", test_cidr_v4},
                                      {"IPv6 prefixes", test_cidr_v6},
                                      {NULL, NULL}};
    vd_add_suite("ipaddr", tests);
}
