/* A text's sketch for near-duplicate search: the text normalised (HTML tags, script and style
 * dropped, ASCII case and whitespace folded, a number kept as one "0" token, a URL as its
 * host), cut into word trigrams (shingles), and summarised by a one-permutation MinHash of
 * VD_SKETCH_HASHES values. Two texts whose shingle sets have Jaccard similarity J agree on
 * about J * VD_SKETCH_HASHES of the values, so comparing two sketches costs 32 integer
 * compares whatever the texts' length.
 *
 * Why MinHash rather than SimHash: MinHash estimates the Jaccard similarity itself (so "more
 * than half of the 32 hashes agree" means "about half the shingles are shared", which analysts
 * can reason about), and LSH banding over it finds candidates with plain hash-table lookups.
 * SimHash keeps 64 bits instead of 128 bytes, but its multi-index lookup for "within 3 bits"
 * needs several permuted tables and says little about how much text is shared. One-permutation
 * hashing (each shingle hashed once, its hash choosing one of the 32 bins) keeps the cost
 * linear in the text, instead of 32 hashes per shingle. */
#ifndef VD_SKETCH_H
#define VD_SKETCH_H

#include <stddef.h>
#include <stdint.h>

#define VD_SKETCH_HASHES    32 /* MinHash values; a match is more than half of them equal */
#define VD_SKETCH_BANDS     8  /* LSH bands of VD_SKETCH_HASHES / VD_SKETCH_BANDS values */
#define VD_SKETCH_MIN_WORDS 6  /* shorter texts have no sketch: they would all look alike */
#define VD_SKETCH_MAX_BYTES ((size_t)64 << 10) /* bytes of a text read; the rest is ignored */

typedef struct vd_sketch {
    uint32_t h[VD_SKETCH_HASHES];
    uint32_t words; /* words read (at most what VD_SKETCH_MAX_BYTES holds) */
} vd_sketch_t;

/* The sketch of len bytes of text (plain or HTML, any bytes: invalid UTF-8 is read as
 * bytes). Returns 0, or VD_EINVAL when the text has fewer than VD_SKETCH_MIN_WORDS words. */
int vd_sketch_text(const char *text, size_t len, vd_sketch_t *out);

/* How many of the two sketches' values are equal (0 to VD_SKETCH_HASHES). */
int vd_sketch_agree(const vd_sketch_t *a, const vd_sketch_t *b);

/* The key of band b (0 to VD_SKETCH_BANDS - 1) of the sketch: texts that share a band key
 * are candidates for a match. */
uint64_t vd_sketch_band(const vd_sketch_t *s, int b);

/* A name for the sketch's values (equal sketches, equal digests). */
uint64_t vd_sketch_digest(const vd_sketch_t *s);

#endif
