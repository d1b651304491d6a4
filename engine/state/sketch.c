/* Text to sketch in one pass: no copy of the normalised text is made, each word is hashed as
 * it ends and each trigram of word hashes goes straight into the MinHash bins.
 *
 * The normaliser lives here rather than in plugins/textclf: the state floor cannot reach a
 * plugin's code, and the mail pipeline's events already carry the body decoded (MIME parsing
 * of the raw message stays in textclf, which can hand its decoded text to the campaign host
 * API). What remains to do on a decoded body is small: drop markup, fold case, keep the parts
 * of a template that stay fixed and flatten the parts that vary per copy (numbers, URL paths). */
#include "sketch.h"

#include "base/error.h"

#include <string.h>
#include <xxhash.h>

#define HASHES   VD_SKETCH_HASHES
#define ROWS     (VD_SKETCH_HASHES / VD_SKETCH_BANDS)
#define EMPTY    UINT32_MAX
#define MAX_WORD 48 /* a longer word that needs folding is cut there */

_Static_assert(HASHES == 32, "the bin is the shingle hash's top 5 bits");
_Static_assert(HASHES % VD_SKETCH_BANDS == 0, "bands split the values evenly");

/* What each byte is to the tokeniser: one table lookup per byte keeps the loop short. The
 * word classes are bits, so that a word's classes OR-ed say whether it needs folding. */
enum { SEP = 0, LOWER = 1, UPPER = 2, DIGIT = 4, WORD = 7, LT = 8, AMP = 16 };

static const uint8_t cls[256] = {
    ['a' ... 'z'] = LOWER,
    ['A' ... 'Z'] = UPPER,
    ['0' ... '9'] = DIGIT,
    [0x80 ... 0xff] = LOWER, /* the bytes of non-ASCII characters are kept as they are */
    ['<'] = LT,
    ['&'] = AMP};

typedef struct tok {
    uint32_t bins[HASHES];
    uint64_t last[2]; /* the hashes of the two words before the current one */
    uint32_t words;
} tok_t;

static uint64_t rotl(uint64_t x, int r) {
    return (x << r) | (x >> (64 - r));
}

/* The finaliser of splitmix64: every input bit reaches every output bit. */
static uint64_t mix(uint64_t x) {
    x ^= x >> 30;
    x *= 0xbf58476d1ce4e5b9ULL;
    x ^= x >> 27;
    x *= 0x94d049bb133111ebULL;
    return x ^ (x >> 31);
}

/* A word ends, hashed: the trigram it closes goes into its MinHash bin (one-permutation
 * hashing: the top bits pick the bin). */
static void add_word(tok_t *t, uint64_t w) {
    if (t->words >= 2) {
        uint64_t s = mix(t->last[0] ^ rotl(t->last[1], 21) ^ rotl(w, 42));
        uint32_t bin = (uint32_t)(s >> 59), v = (uint32_t)s;
        if (v < t->bins[bin]) t->bins[bin] = v;
    }
    t->last[0] = t->last[1];
    t->last[1] = w;
    t->words++;
}

static int is_host(unsigned char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
           c == '-';
}

static int starts(const char *p, const char *end, const char *lit) {
    size_t n = strlen(lit);
    return (size_t)(end - p) >= n && strncasecmp(p, lit, n) == 0;
}

static int url_start(const char *p, const char *end) {
    return starts(p, end, "http://") || starts(p, end, "https://") || starts(p, end, "www.");
}

/* A URL becomes one word, "u:" and its host: copies of a campaign share the host while the
 * path and query often carry a per-recipient code. Returns where the URL ends. */
static const char *url(tok_t *t, const char *p, const char *end) {
    const char *host = p;
    if (starts(p, end, "http://")) host = p + 7;
    if (starts(p, end, "https://")) host = p + 8;
    if (starts(host, end, "www.")) host += 4;
    char buf[MAX_WORD] = "u:";
    size_t n = 2;
    for (p = host; p < end && is_host((unsigned char)*p); p++)
        if (n < MAX_WORD) buf[n++] = (char)(*p | (*p >= 'A' && *p <= 'Z' ? 0x20 : 0));
    add_word(t, XXH3_64bits(buf, n));
    while (p < end && *p != ' ' && *p != '\n' && *p != '\r' && *p != '\t' && *p != '"' &&
           *p != '\'' && *p != '<' && *p != '>')
        p++;
    return p;
}

/* Skips a tag; after <script> or <style>, their content too (it is not text a person reads).
 * Returns where the text goes on. */
static const char *tag(const char *p, const char *end) {
    const char *name = p + 1;
    int hidden = starts(name, end, "script") || starts(name, end, "style");
    const char *gt = memchr(p, '>', (size_t)(end - p));
    p = gt ? gt + 1 : end;
    while (hidden && p < end) {
        const char *lt = memchr(p, '<', (size_t)(end - p));
        if (!lt) return end;
        if (lt + 1 < end && lt[1] == '/') return lt;
        p = lt + 1;
    }
    return p;
}

/* An entity (&nbsp; &#39;) separates words and is otherwise dropped. */
static const char *entity(const char *p, const char *end) {
    for (const char *q = p + 1; q < end && q < p + 10; q++) {
        if (*q == ';') return q + 1;
        if (!(cls[(unsigned char)*q] & WORD) && *q != '#') break;
    }
    return p + 1;
}

static int tag_start(const char *p, const char *end) {
    unsigned char c = p + 1 < end ? (unsigned char)p[1] : 0;
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '/' || c == '!' || c == '?';
}

/* Reads one word from p: letters folded to lower case, a run of digits as one "0" (prices,
 * codes, dates). Most words need no folding and are hashed where they lie. Returns where the
 * word ends. */
static const char *word(tok_t *t, const unsigned char *p, const unsigned char *end) {
    const unsigned char *q = p;
    unsigned seen = 0;
    while (q < end && (cls[*q] & WORD))
        seen |= cls[*q++];
    if (seen == LOWER) {
        add_word(t, XXH3_64bits(p, (size_t)(q - p)));
        return (const char *)q;
    }
    char buf[MAX_WORD];
    size_t n = 0;
    for (int number = 0; p < q && n < MAX_WORD; p++) {
        if (cls[*p] == DIGIT) {
            if (!number) buf[n++] = '0';
            number = 1;
        } else {
            buf[n++] = (char)(cls[*p] == UPPER ? *p | 0x20 : *p);
            number = 0;
        }
    }
    add_word(t, XXH3_64bits(buf, n));
    return (const char *)q;
}

static void read_text(tok_t *t, const char *p, const char *end) {
    while (p < end) {
        unsigned char c = (unsigned char)*p;
        switch (cls[c]) {
        case SEP:
            p++;
            break;
        case LT:
            p = tag_start(p, end) ? tag(p, end) : p + 1;
            break;
        case AMP:
            p = entity(p, end);
            break;
        default:
            if ((c | 0x20) == 'h' || (c | 0x20) == 'w') {
                if (url_start(p, end)) {
                    p = url(t, p, end);
                    break;
                }
            }
            p = word(t, (const unsigned char *)p, (const unsigned char *)end);
        }
    }
}

/* Empty bins (short texts) borrow the next filled bin's value, shifted by the distance, so
 * that two texts agree on an empty bin only when they agree on the bin it borrows from
 * (rotation densification of one-permutation hashing). */
static void densify(const uint32_t *bins, uint32_t *out) {
    for (int i = 0; i < HASHES; i++) {
        int k = 0;
        while (k < HASHES && bins[(i + k) % HASHES] == EMPTY)
            k++;
        out[i] = k == HASHES ? 0 : bins[(i + k) % HASHES] + (uint32_t)k * 0x9e3779b9u;
    }
}

int vd_sketch_text(const char *text, size_t len, vd_sketch_t *out) {
    tok_t t = {.words = 0};
    memset(t.bins, 0xff, sizeof t.bins);
    if (len > VD_SKETCH_MAX_BYTES) len = VD_SKETCH_MAX_BYTES;
    read_text(&t, text, text + len);
    out->words = t.words;
    if (t.words < VD_SKETCH_MIN_WORDS) return VD_EINVAL;
    densify(t.bins, out->h);
    return 0;
}

int vd_sketch_agree(const vd_sketch_t *a, const vd_sketch_t *b) {
    int n = 0;
    for (int i = 0; i < HASHES; i++)
        n += a->h[i] == b->h[i];
    return n;
}

uint64_t vd_sketch_band(const vd_sketch_t *s, int b) {
    return XXH3_64bits_withSeed(&s->h[(size_t)b * ROWS], ROWS * sizeof s->h[0], (uint64_t)b + 1);
}

uint64_t vd_sketch_digest(const vd_sketch_t *s) {
    return XXH3_64bits(s->h, sizeof s->h);
}
