#include "upvalue_writes.h"

#include <lauxlib.h>
#include <stdlib.h>
#include <string.h>

/* Lua 5.4 bytecode, as lua_dump writes it (ldump.c): a header, then the function with its
 * code, constants, upvalue descriptions, nested functions and debug information. Only the
 * 5.4 format is read; anything unexpected makes the reader give up, and the caller then
 * assumes the worst. */
#define OP_SETUPVAL 10 /* lopcodes.h: UpValue[B] := R[A] */

typedef struct dump_buf {
    unsigned char *data;
    size_t len, cap;
} dump_buf_t;

static int collect(lua_State *L, const void *p, size_t sz, void *ud) {
    (void)L;
    dump_buf_t *b = ud;
    if (b->len + sz > b->cap) {
        size_t cap = b->cap ? b->cap : 4096;
        while (cap < b->len + sz)
            cap *= 2;
        unsigned char *n = realloc(b->data, cap);
        if (!n) return 1;
        b->data = n;
        b->cap = cap;
    }
    memcpy(b->data + b->len, p, sz);
    b->len += sz;
    return 0;
}

typedef struct reader {
    const unsigned char *p, *end;
    int bad;
} reader_t;

static const unsigned char *take(reader_t *r, size_t n) {
    if (r->bad || (size_t)(r->end - r->p) < n) {
        r->bad = 1;
        return NULL;
    }
    const unsigned char *at = r->p;
    r->p += n;
    return at;
}

static unsigned byte(reader_t *r) {
    const unsigned char *b = take(r, 1);
    return b ? *b : 0;
}

/* Sizes: 7 bits a byte, most significant first, the last byte marked with 0x80. */
static size_t size(reader_t *r) {
    size_t x = 0;
    for (int i = 0; i < 10; i++) {
        unsigned b = byte(r);
        x = (x << 7) | (b & 0x7f);
        if (b & 0x80) return x;
    }
    r->bad = 1;
    return 0;
}

static void skip_string(reader_t *r) {
    size_t n = size(r);
    if (n > 0) take(r, n - 1);
}

static void skip_constants(reader_t *r) {
    size_t n = size(r);
    for (size_t i = 0; i < n && !r->bad; i++) {
        switch (byte(r)) {
        case 0:  /* nil */
        case 1:  /* false */
        case 17: /* true */
            break;
        case 3:  /* integer */
        case 19: /* float */
            take(r, 8);
            break;
        case 4:  /* short string */
        case 20: /* long string */
            skip_string(r);
            break;
        default:
            r->bad = 1;
        }
    }
}

static void skip_debug(reader_t *r) {
    take(r, size(r)); /* relative line information */
    size_t n = size(r);
    for (size_t i = 0; i < n && !r->bad; i++)
        size(r), size(r);
    n = size(r);
    for (size_t i = 0; i < n && !r->bad; i++)
        skip_string(r), size(r), size(r);
    n = size(r);
    for (size_t i = 0; i < n && !r->bad; i++)
        skip_string(r);
}

/* Reads one function. Sets in written the upvalues that it or its nested functions assign, and
 * points *up at its nup upvalue descriptions (3 bytes each: in the stack of the enclosing
 * function, index there, kind). */
static void function(reader_t *r, uint8_t written[32], const unsigned char **up, size_t *nup,
                     int depth) {
    if (depth > 200) {
        r->bad = 1;
        return;
    }
    skip_string(r);   /* source */
    size(r), size(r); /* first and last line */
    take(r, 3);       /* parameters, vararg, stack size */
    size_t ncode = size(r);
    const unsigned char *code = ncode <= (size_t)(r->end - r->p) / 4 ? take(r, ncode * 4) : NULL;
    if (!code) r->bad = 1;
    for (size_t i = 0; code && i < ncode; i++) {
        uint32_t ins;
        memcpy(&ins, code + i * 4, 4);
        if ((ins & 0x7f) == OP_SETUPVAL) {
            unsigned b = (ins >> 16) & 0xff;
            written[b / 8] |= (uint8_t)(1u << (b % 8));
        }
    }
    skip_constants(r);
    *nup = size(r);
    *up = *nup <= (size_t)(r->end - r->p) / 3 ? take(r, *nup * 3) : NULL;
    if (!*up) r->bad = 1;
    size_t nproto = size(r);
    for (size_t i = 0; i < nproto && !r->bad; i++) {
        uint8_t inner[32] = {0};
        const unsigned char *iup;
        size_t inup;
        function(r, inner, &iup, &inup, depth + 1);
        /* An upvalue of the nested function that is not a local here is one of this
         * function's upvalues: assigning it there assigns it here. */
        for (size_t j = 0; !r->bad && j < inup && j < 256; j++)
            if ((inner[j / 8] & (1u << (j % 8))) && iup[j * 3] == 0) {
                unsigned b = iup[j * 3 + 1];
                written[b / 8] |= (uint8_t)(1u << (b % 8));
            }
    }
    skip_debug(r);
}

/* The 5.4 header: signature, version, format, check bytes, sizes, and two check numbers. */
static int header_ok(reader_t *r) {
    static const unsigned char head[] = {0x1b, 'L',  'u',  'a',  0x54, 0, 0x19, 0x93,
                                         '\r', '\n', 0x1a, '\n', 4,    8, 8};
    const unsigned char *h = take(r, sizeof head);
    if (!h || memcmp(h, head, sizeof head) != 0) return 0;
    take(r, 16); /* LUAC_INT and LUAC_NUM, written natively */
    byte(r);     /* the number of upvalues of the main function */
    return !r->bad;
}

int vd_lua_upvalue_writes(lua_State *L, int idx, uint8_t written[32]) {
    memset(written, 0, 32);
    if (!lua_isfunction(L, idx) || lua_iscfunction(L, idx)) return -1;
    lua_pushvalue(L, idx);
    dump_buf_t b = {0};
    int rc = lua_dump(L, collect, &b, 1);
    lua_pop(L, 1);
    reader_t r = {b.data, b.data + b.len, rc != 0 || !b.data};
    const unsigned char *up;
    size_t nup;
    if (!r.bad && header_ok(&r)) function(&r, written, &up, &nup, 0);
    int ok = !r.bad && r.p == r.end;
    free(b.data);
    if (!ok) memset(written, 0xff, 32);
    return ok ? 0 : -1;
}
