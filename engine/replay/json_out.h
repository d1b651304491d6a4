/* A small streaming JSON writer for the report: indented objects and arrays, or "inline"
 * ones on a single line (leaves such as {"from": 0, "before": 3}), strings escaped, numbers
 * written as the shortest text that reads back the same (non-finite ones as null). */
#ifndef VD_REPLAY_JSON_OUT_H
#define VD_REPLAY_JSON_OUT_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define VD_JW_DEPTH 32

typedef struct vd_jw {
    FILE *out;
    int depth;
    int after_key;
    unsigned char items[VD_JW_DEPTH]; /* whether the container at each depth has an item */
    unsigned char oneline[VD_JW_DEPTH];
    char closer[VD_JW_DEPTH];
} vd_jw_t;

void vd_jw_init(vd_jw_t *w, FILE *out);

/* Opens an object or array; oneline keeps it (and what it holds) on one line. */
void vd_jw_object(vd_jw_t *w, int oneline);
void vd_jw_array(vd_jw_t *w, int oneline);
void vd_jw_end(vd_jw_t *w);

/* The key of the next value (a literal name: not escaped). */
void vd_jw_key(vd_jw_t *w, const char *key);

void vd_jw_str(vd_jw_t *w, const char *s); /* NULL: null */
void vd_jw_u64(vd_jw_t *w, uint64_t v);
void vd_jw_i64(vd_jw_t *w, int64_t v);
void vd_jw_num(vd_jw_t *w, double v);
void vd_jw_null(vd_jw_t *w);
/* A parsed JSON value (a sample's reasons), written on one line by this writer's rules. */
struct json_t;
void vd_jw_json(vd_jw_t *w, const struct json_t *v);

/* The shortest "%.Ng" text of v that reads back as v. */
void vd_jw_format_double(char buf[32], double v);

#endif
