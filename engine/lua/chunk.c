#include "chunk.h"

#include "base/error.h"

#include <limits.h>
#include <stdlib.h>
#include <string.h>

/* Nested function definitions deeper than this are refused rather than followed: the reader
 * recurses once per level. Lua's own parser stops at 200 C levels. */
#define MAX_DEPTH 200

typedef struct reader {
    const unsigned char *p, *end;
    vd_arena_t *arena;
    int bad;   /* not a chunk this reader understands */
    int nomem; /* the arena ran out */
} reader_t;

static size_t left(const reader_t *r) {
    return (size_t)(r->end - r->p);
}

static const unsigned char *take(reader_t *r, size_t n) {
    if (r->bad || left(r) < n) {
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

/* Sizes: 7 bits a byte, most significant first, the last byte marked with 0x80 (ldump.c). */
static size_t size(reader_t *r) {
    size_t x = 0;
    for (int i = 0; i < 10 && !r->bad; i++) {
        unsigned b = byte(r);
        if (x > (SIZE_MAX >> 7)) break;
        x = (x << 7) | (b & 0x7f);
        if (b & 0x80) return x;
    }
    r->bad = 1;
    return 0;
}

static int integer(reader_t *r) {
    size_t x = size(r);
    if (x > INT_MAX) r->bad = 1;
    return r->bad ? 0 : (int)x;
}

/* A count of items taking at least min_bytes each: larger than what is left is a bad chunk,
 * which also bounds what the reader allocates by the size of its input. */
static size_t count(reader_t *r, size_t min_bytes) {
    size_t n = size(r);
    if (n > left(r) / min_bytes) r->bad = 1;
    return r->bad ? 0 : n;
}

static void *alloc(reader_t *r, size_t n, size_t each) {
    if (r->bad || n == 0) return NULL;
    void *p = vd_arena_alloc(r->arena, n * each);
    if (!p) r->bad = r->nomem = 1;
    return p;
}

/* A string: its size plus one, or 0 for none (ldump.c dumpString). */
static const char *string(reader_t *r, size_t *len) {
    size_t n = size(r);
    *len = 0;
    if (n == 0) return NULL;
    const unsigned char *s = take(r, n - 1);
    if (s) *len = n - 1;
    return (const char *)s;
}

static void constants(reader_t *r, vd_chunk_fn_t *f) {
    f->nk = count(r, 1);
    f->k = alloc(r, f->nk, sizeof *f->k);
    for (size_t i = 0; i < f->nk && !r->bad; i++) {
        vd_chunk_const_t *k = &f->k[i];
        memset(k, 0, sizeof *k);
        switch (byte(r)) { /* the value's type tag (lobject.h) */
        case 0:
            k->type = VD_K_NIL;
            break;
        case 1:
            k->type = VD_K_FALSE;
            break;
        case 17:
            k->type = VD_K_TRUE;
            break;
        case 3:
            k->type = VD_K_INT;
            take(r, 8);
            break;
        case 19:
            k->type = VD_K_FLOAT;
            take(r, 8);
            break;
        case 4:  /* short string */
        case 20: /* long string */
            k->type = VD_K_STRING;
            if (!(k->str = string(r, &k->len))) r->bad = 1;
            break;
        default:
            r->bad = 1;
        }
    }
}

static void upvalues(reader_t *r, vd_chunk_fn_t *f) {
    f->nup = count(r, 3);
    f->up = alloc(r, f->nup, sizeof *f->up);
    for (size_t i = 0; i < f->nup && !r->bad; i++) {
        const unsigned char *d = take(r, 3); /* in the stack?, index, kind */
        if (!d) break;
        f->up[i] = (vd_chunk_upval_t){.instack = d[0], .idx = d[1]};
    }
}

static void debug_info(reader_t *r, vd_chunk_fn_t *f) {
    f->nlineinfo = count(r, 1);
    f->lineinfo = (const signed char *)take(r, f->nlineinfo);
    f->nabs = count(r, 2);
    f->abslines = alloc(r, f->nabs, 2 * sizeof *f->abslines);
    for (size_t i = 0; i < f->nabs && !r->bad; i++) {
        f->abslines[2 * i] = integer(r);
        f->abslines[2 * i + 1] = integer(r);
    }
    size_t nlocals = count(r, 3);
    for (size_t i = 0; i < nlocals && !r->bad; i++) {
        size_t len;
        string(r, &len);
        size(r), size(r); /* where the local is alive */
    }
    size_t nnames = count(r, 1);
    if (nnames != 0 && nnames != f->nup) r->bad = 1; /* all the upvalues' names, or none */
    for (size_t i = 0; i < nnames && !r->bad; i++)
        f->up[i].name = string(r, &f->up[i].name_len);
}

static void function(reader_t *r, vd_chunk_fn_t *f, const vd_chunk_fn_t *parent, int depth) {
    memset(f, 0, sizeof *f);
    if (depth > MAX_DEPTH) r->bad = 1;
    f->source = string(r, &f->source_len);
    if (!f->source && parent) { /* the dump leaves out a source equal to the parent's */
        f->source = parent->source;
        f->source_len = parent->source_len;
    }
    f->line_defined = integer(r);
    f->last_line = integer(r);
    byte(r); /* parameters */
    f->is_vararg = (int)byte(r);
    byte(r); /* stack size */
    f->ncode = count(r, 4);
    f->code = take(r, f->ncode * 4);
    constants(r, f);
    upvalues(r, f);
    f->nprotos = count(r, 1);
    f->protos = alloc(r, f->nprotos, sizeof *f->protos);
    for (size_t i = 0; i < f->nprotos && !r->bad; i++)
        function(r, &f->protos[i], f, depth + 1);
    debug_info(r, f);
    if (r->bad) f->nprotos = 0; /* half-read functions are never walked */
}

/* The header (lundump.c checkHeader): signature, version 5.4, format 0, the bytes that catch
 * text-mode conversions, the sizes of an instruction, an integer and a float, and two numbers
 * that must read back as written (the byte order and the float format); then the number of
 * upvalues of the main function. */
static int header_ok(reader_t *r) {
    static const unsigned char head[] = {0x1b, 'L',  'u',  'a',  0x54, 0, 0x19, 0x93,
                                         '\r', '\n', 0x1a, '\n', 4,    8, 8};
    const unsigned char *h = take(r, sizeof head);
    if (!h || memcmp(h, head, sizeof head) != 0) return 0;
    const unsigned char *nums = take(r, 16);
    if (!nums) return 0;
    int64_t i;
    double d;
    memcpy(&i, nums, 8);
    memcpy(&d, nums + 8, 8);
    byte(r);
    return !r->bad && i == 0x5678 && d == 370.5;
}

static int parse(vd_chunk_t *c) {
    vd_arena_init(&c->arena);
    reader_t r = {c->data, c->data + c->len, &c->arena, 0, 0};
    if (!c->data || !header_ok(&r)) return VD_EINVAL;
    function(&r, &c->main, NULL, 0);
    if (r.nomem) return VD_ENOMEM;
    return r.bad || r.p != r.end ? VD_EINVAL : 0;
}

int vd_chunk_read(vd_chunk_t *c, const void *data, size_t len) {
    memset(c, 0, sizeof *c);
    if (!(c->data = malloc(len ? len : 1))) return VD_ENOMEM;
    if (len) memcpy(c->data, data, len);
    c->len = len;
    return parse(c);
}

typedef struct dump_buf {
    unsigned char *data;
    size_t len, cap;
} dump_buf_t;

static int collect(lua_State *L, const void *p, size_t sz, void *ud) {
    (void)L;
    dump_buf_t *b = ud;
    if (sz > SIZE_MAX / 2 - b->len) return 1;
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

int vd_chunk_dump(lua_State *L, int idx, int strip, vd_chunk_t *c) {
    memset(c, 0, sizeof *c);
    if (!lua_isfunction(L, idx) || lua_iscfunction(L, idx)) return VD_EINVAL;
    lua_pushvalue(L, idx);
    dump_buf_t b = {0};
    int rc = lua_dump(L, collect, &b, strip);
    lua_pop(L, 1);
    c->data = b.data;
    c->len = b.len;
    if (rc != 0) return b.data ? VD_EINVAL : VD_ENOMEM;
    return parse(c);
}

void vd_chunk_close(vd_chunk_t *c) {
    free(c->data);
    c->data = NULL;
    vd_arena_close(&c->arena);
}

uint32_t vd_chunk_ins(const vd_chunk_fn_t *f, size_t pc) {
    uint32_t ins;
    memcpy(&ins, f->code + pc * 4, 4);
    return ins;
}

/* As ldebug.c luaG_getfuncline: from the last absolute line at or before pc (or the line the
 * function starts on), add the changes of the instructions after it. */
int vd_chunk_line(const vd_chunk_fn_t *f, size_t pc) {
    if (pc >= f->nlineinfo) return -1;
    long line = f->line_defined, base = -1;
    for (size_t i = 0; i < f->nabs; i++) {
        long at = f->abslines[2 * i];
        if (at <= (long)pc && at > base) {
            base = at;
            line = f->abslines[2 * i + 1];
        }
    }
    for (long p = base + 1; p <= (long)pc; p++) {
        if (f->lineinfo[p] == -128) return -1; /* an absolute line the table lacks */
        line += f->lineinfo[p];
    }
    return line >= 0 && line <= INT_MAX ? (int)line : -1;
}

const char *vd_chunk_kstr(const vd_chunk_fn_t *f, unsigned i, size_t *len) {
    if (i >= f->nk || f->k[i].type != VD_K_STRING) return NULL;
    *len = f->k[i].len;
    return f->k[i].str;
}
