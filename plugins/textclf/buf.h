/* A growable byte buffer for the textclf parser (plugin-local, no engine types). */
#ifndef TEXTCLF_BUF_H
#define TEXTCLF_BUF_H

#include <stdlib.h>
#include <string.h>

typedef struct tc_buf {
    unsigned char *p;
    size_t len, cap;
    int oom;
} tc_buf_t;

static inline void tc_put(tc_buf_t *b, const void *data, size_t n) {
    if (b->oom || n == 0) return;
    if (b->len + n > b->cap) {
        size_t cap = b->cap ? b->cap : 256;
        while (cap < b->len + n)
            cap *= 2;
        unsigned char *p = realloc(b->p, cap);
        if (!p) {
            b->oom = 1;
            return;
        }
        b->p = p;
        b->cap = cap;
    }
    memcpy(b->p + b->len, data, n);
    b->len += n;
}

static inline void tc_putc(tc_buf_t *b, unsigned char c) {
    tc_put(b, &c, 1);
}

static inline void tc_free(tc_buf_t *b) {
    free(b->p);
    b->p = NULL;
    b->len = b->cap = 0;
}

#endif
