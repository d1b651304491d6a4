#include "ipaddr.h"

#include "error.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const uint8_t v4_mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};

/* A dotted quad as inet_pton reads one (four decimal octets, no leading zeros), without its
 * copy and library call: most addresses rules see are IPv4. 0 when s is not one. */
static int parse_v4(const char *s, size_t len, uint8_t out[4]) {
    size_t i = 0;
    for (int octet = 0; octet < 4; octet++) {
        if (octet > 0 && (i >= len || s[i++] != '.')) return 0;
        unsigned v = 0, digits = 0;
        while (i < len && s[i] >= '0' && s[i] <= '9' && digits < 4) {
            if (digits == 1 && v == 0) return 0; /* a leading zero */
            v = v * 10 + (unsigned)(s[i++] - '0');
            digits++;
        }
        if (digits == 0 || v > 255) return 0;
        out[octet] = (uint8_t)v;
    }
    return i == len;
}

int vd_ip_parse(const char *s, size_t len, vd_ip_t *out) {
    char buf[64];
    if (len == 0 || len >= sizeof buf) return VD_EINVAL;
    if (parse_v4(s, len, out->b + 12)) {
        memcpy(out->b, v4_mapped, 12);
        out->v4 = 1;
        return 0;
    }
    memcpy(buf, s, len);
    buf[len] = '\0';
    memset(out, 0, sizeof *out);
    if (inet_pton(AF_INET, buf, out->b + 12) == 1) {
        memcpy(out->b, v4_mapped, 12);
        out->v4 = 1;
        return 0;
    }
    if (inet_pton(AF_INET6, buf, out->b) == 1) {
        out->v4 = memcmp(out->b, v4_mapped, 12) == 0;
        return 0;
    }
    return VD_EINVAL;
}

static void mask(vd_ip_t *ip, int bits) {
    for (int i = 0; i < 16; i++) {
        int keep = bits - i * 8;
        if (keep >= 8) continue;
        ip->b[i] &= keep <= 0 ? 0 : (uint8_t)(0xff << (8 - keep));
    }
}

int vd_cidr_parse(const char *s, size_t len, vd_cidr_t *out) {
    const char *slash = memchr(s, '/', len);
    size_t alen = slash ? (size_t)(slash - s) : len;
    if (vd_ip_parse(s, alen, &out->ip) != 0) return VD_EINVAL;
    int max = out->ip.v4 ? 32 : 128;
    int bits = max;
    if (slash) {
        char num[8];
        size_t nlen = len - alen - 1;
        if (nlen == 0 || nlen >= sizeof num) return VD_EINVAL;
        memcpy(num, slash + 1, nlen);
        num[nlen] = '\0';
        char *end;
        long v = strtol(num, &end, 10);
        if (*end || v < 0 || v > max) return VD_EINVAL;
        bits = (int)v;
    }
    out->bits = out->ip.v4 ? bits + 96 : bits;
    mask(&out->ip, out->bits);
    return 0;
}

int vd_cidr_contains(const vd_cidr_t *c, const vd_ip_t *ip) {
    int full = c->bits / 8, rest = c->bits % 8;
    if (memcmp(c->ip.b, ip->b, (size_t)full) != 0) return 0;
    if (rest == 0) return 1;
    uint8_t m = (uint8_t)(0xff << (8 - rest));
    return (c->ip.b[full] & m) == (ip->b[full] & m);
}

/* Writes v in decimal at p; returns the end. */
static char *put_uint(char *p, unsigned v) {
    char digits[10];
    int n = 0;
    do
        digits[n++] = (char)('0' + v % 10);
    while ((v /= 10) != 0);
    while (n > 0)
        *p++ = digits[--n];
    return p;
}

size_t vd_ip_format(const vd_ip_t *ip, char *buf, size_t cap) {
    if (!ip->v4) {
        if (!inet_ntop(AF_INET6, ip->b, buf, (socklen_t)cap)) return buf[0] = '\0', 0;
        return strlen(buf);
    }
    if (cap < 16) return buf[0] = '\0', 0;
    char *p = buf;
    for (int i = 12; i < 16; i++) {
        if (i > 12) *p++ = '.';
        p = put_uint(p, ip->b[i]);
    }
    *p = '\0';
    return (size_t)(p - buf);
}

void vd_cidr_of(const vd_ip_t *ip, int bits, vd_cidr_t *out) {
    out->ip = *ip;
    out->bits = ip->v4 ? bits + 96 : bits;
    mask(&out->ip, out->bits);
}

size_t vd_cidr_format(const vd_cidr_t *c, char *buf, size_t cap) {
    size_t n = vd_ip_format(&c->ip, buf, cap);
    if (n == 0 || cap - n < 5) return buf[0] = '\0', 0;
    buf[n++] = '/';
    n = (size_t)(put_uint(buf + n, (unsigned)(c->ip.v4 ? c->bits - 96 : c->bits)) - buf);
    buf[n] = '\0';
    return n;
}
