/* IP addresses and CIDR prefixes, IPv4 and IPv6 in one 16-byte form (IPv4 as ::ffff:a.b.c.d). */
#ifndef VD_IPADDR_H
#define VD_IPADDR_H

#include <stddef.h>
#include <stdint.h>

typedef struct vd_ip {
    uint8_t b[16];
    int v4; /* 1 when the address is IPv4 (or IPv4-mapped IPv6) */
} vd_ip_t;

typedef struct vd_cidr {
    vd_ip_t ip; /* network address, host bits cleared */
    int bits;   /* prefix length counted on the 128-bit form */
} vd_cidr_t;

/* Parses "203.0.113.7", "2001:db8::1" or "::ffff:1.2.3.4" (len bytes). Returns 0 or VD_EINVAL. */
int vd_ip_parse(const char *s, size_t len, vd_ip_t *out);

/* Parses "10.0.0.0/8", "2001:db8::/32" or a bare address (a host prefix). Returns 0 or
 * VD_EINVAL. */
int vd_cidr_parse(const char *s, size_t len, vd_cidr_t *out);

/* True when ip lies inside the prefix. */
int vd_cidr_contains(const vd_cidr_t *c, const vd_ip_t *ip);

/* Writes the address in canonical text form into buf (at least 46 bytes); returns its length
 * (0, with buf empty, when cap is too small). */
size_t vd_ip_format(const vd_ip_t *ip, char *buf, size_t cap);

/* The network of bits (counted in the address's own family) that ip belongs to. */
void vd_cidr_of(const vd_ip_t *ip, int bits, vd_cidr_t *out);

/* Writes "network/len" in the address's own family into buf (at least 50 bytes); returns its
 * length (0, with buf empty, when cap is too small). */
size_t vd_cidr_format(const vd_cidr_t *c, char *buf, size_t cap);

#endif
