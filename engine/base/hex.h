/* Sixteen lowercase hex digits of a 64-bit value, without snprintf: campaign ids and keys are
 * written in every decision that reads a campaign. */
#ifndef VD_HEX_H
#define VD_HEX_H

#include <stdint.h>

/* Writes exactly 16 characters at out (no NUL) and returns out + 16. */
static inline char *vd_hex64(char *out, uint64_t v) {
    static const char digits[] = "0123456789abcdef";
    for (int i = 15; i >= 0; i--, v >>= 4)
        out[i] = digits[v & 15];
    return out + 16;
}

/* The value of a hex digit (either case), or -1. */
static inline int vd_hex_digit(char c) {
    return c >= '0' && c <= '9'   ? c - '0'
           : c >= 'a' && c <= 'f' ? c - 'a' + 10
           : c >= 'A' && c <= 'F' ? c - 'A' + 10
                                  : -1;
}

#endif
