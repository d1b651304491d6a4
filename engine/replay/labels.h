/* Labels for a backtest (--labels FILE): which decisions or entities are known bad (confirmed
 * spam, chargebacks, confirmed takeovers) or known good. Keys are decision ids or entity
 * values (an email, an IP, an account id) in one key space; lookups are one hash probe, for
 * millions of labels.
 *
 * A file holds one label a line, in either form (mixed freely):
 *   KEY,LABEL                       CSV; KEY may be "quoted" ("" inside is one quote)
 *   {"id": KEY, "label": LABEL}     JSON; or "entity" instead of "id"; other keys ignored
 * Blank lines and lines starting with # are skipped; a first CSV line whose LABEL is "label"
 * is a header. LABEL, in any case:
 *   bad:  bad spam fraud abuse abusive malicious chargeback takeover compromised positive 1 true
 *   good: good ham legit legitimate benign clean negative 0 false
 * (JSON may also give true/false or 1/0 as values). A key labelled again takes its last
 * label, so a later correction (an appeal) wins. */
#ifndef VD_REPLAY_LABELS_H
#define VD_REPLAY_LABELS_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

typedef struct vd_labels vd_labels_t;

/* An empty set; NULL when out of memory. */
vd_labels_t *vd_labels_new(void);
void vd_labels_free(vd_labels_t *l);

/* Reads the labels file at path into l. Returns 0; VD_EIO when it cannot be read ("FILE:
 * reason" in err); VD_EINVAL for a bad line ("FILE:LINE: message", the lines before it are
 * kept); VD_ENOMEM. */
int vd_labels_load(vd_labels_t *l, const char *path, char *err, size_t errlen);

/* The same from an open stream; name is the file name for messages. */
int vd_labels_read(vd_labels_t *l, FILE *in, const char *name, char *err, size_t errlen);

/* Labels key[0..len) bad (1) or good (0). Returns 0, VD_EINVAL or VD_ENOMEM. */
int vd_labels_set(vd_labels_t *l, const char *key, size_t len, int label);

/* The label of key[0..len): 1 bad, 0 good, -1 unknown. */
int vd_labels_get(const vd_labels_t *l, const char *key, size_t len);

/* The label a word means: 1 bad, 0 good, -1 not a label word. */
int vd_labels_word(const char *s, size_t len);

typedef struct vd_labels_stats {
    size_t keys, bad, good;
    uint64_t relabelled; /* lines that gave a key another label than it had */
} vd_labels_stats_t;

void vd_labels_stats(const vd_labels_t *l, vd_labels_stats_t *out);

#endif
