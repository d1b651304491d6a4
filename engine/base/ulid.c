#include "ulid.h"

#include <string.h>
#include <sys/random.h>
#include <time.h>

static const char crockford[] = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";

/* xoroshiro128+: fast, and plenty for ids that only need to differ. */
static uint64_t next64(vd_ulid_gen_t *g) {
    uint64_t s0 = g->s[0], s1 = g->s[1], r = s0 + s1;
    s1 ^= s0;
    g->s[0] = ((s0 << 24) | (s0 >> 40)) ^ s1 ^ (s1 << 16);
    g->s[1] = (s1 << 37) | (s1 >> 27);
    return r;
}

void vd_ulid_init(vd_ulid_gen_t *g) {
    if (getrandom(g->s, sizeof g->s, 0) != (ssize_t)sizeof g->s) {
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        g->s[0] = (uint64_t)ts.tv_nsec * 0x9e3779b97f4a7c15ull ^ (uint64_t)(uintptr_t)g;
        g->s[1] = (uint64_t)ts.tv_sec * 0xbf58476d1ce4e5b9ull;
    }
    if (!g->s[0] && !g->s[1]) g->s[1] = 1; /* the one state the generator cannot leave */
}

void vd_ulid_next(vd_ulid_gen_t *g, int64_t unix_ms, char out[VD_ULID_LEN + 1]) {
    uint64_t t = (uint64_t)unix_ms & 0xffffffffffffull;
    /* 48 bits of time then 80 random ones, written 5 bits at a time from the lowest: 26 * 5 =
     * 130, so the first character carries the top 3. */
    unsigned __int128 v = (unsigned __int128)(t << 16 | (next64(g) & 0xffff)) << 64 | next64(g);
    for (int i = VD_ULID_LEN - 1; i >= 0; i--, v >>= 5)
        out[i] = crockford[(unsigned)v & 31];
    out[VD_ULID_LEN] = '\0';
}

int vd_ulid_valid(const char *s, size_t n) {
    if (n != VD_ULID_LEN || s[0] > '7') return 0;
    for (size_t i = 0; i < n; i++)
        if (!s[i] || !memchr(crockford, s[i], sizeof crockford - 1)) return 0;
    return 1;
}
