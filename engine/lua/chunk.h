/* Compiled Lua functions, read back from the binary chunk lua_dump writes (Lua 5.4's format,
 * ldump.c). The loader learns things from a policy's compiled code instead of running it: which
 * upvalues code can assign (freeze.c), which globals it reads or writes and on which line (the
 * policy lint). Only the 5.4 format of this build's sizes and byte order is read; anything else,
 * or a chunk cut short, is refused whole (VD_EINVAL) and never guessed at, and readers of the
 * code must treat a refusal as "unknown". */
#ifndef VD_LUA_CHUNK_H
#define VD_LUA_CHUNK_H

#include "base/arena.h"

#include <lua.h>
#include <stddef.h>
#include <stdint.h>

/* The Lua 5.4 opcodes the engine looks for (lopcodes.h, "ORDER OP"). */
enum {
    VD_OP_LOADI = 1,
    VD_OP_LOADF = 2,
    VD_OP_LOADK = 3,
    VD_OP_LOADTRUE = 7,
    VD_OP_SETUPVAL = 10,
    VD_OP_GETTABUP = 11,
    VD_OP_GETFIELD = 14,
    VD_OP_SETTABUP = 15,
    VD_OP_RETURN = 70,
    VD_OP_RETURN1 = 72,
    VD_OP_VARARGPREP = 81,
};

/* The fields of an instruction: op in 7 bits, then A in 8, k in 1, B in 8 and C in 8 (iABC),
 * or Bx in the 17 bits after A (iABx). */
static inline unsigned vd_op(uint32_t i) {
    return i & 0x7f;
}
static inline unsigned vd_op_a(uint32_t i) {
    return (i >> 7) & 0xff;
}
static inline unsigned vd_op_b(uint32_t i) {
    return (i >> 16) & 0xff;
}
static inline unsigned vd_op_c(uint32_t i) {
    return (i >> 24) & 0xff;
}
static inline unsigned vd_op_bx(uint32_t i) {
    return i >> 15;
}

typedef enum { VD_K_NIL, VD_K_FALSE, VD_K_TRUE, VD_K_INT, VD_K_FLOAT, VD_K_STRING } vd_chunk_k_t;

typedef struct vd_chunk_const {
    vd_chunk_k_t type;
    const char *str; /* VD_K_STRING: len bytes, not NUL-terminated */
    size_t len;
} vd_chunk_const_t;

typedef struct vd_chunk_upval {
    uint8_t instack;  /* 1: a local of the enclosing function; 0: one of its upvalues */
    uint8_t idx;      /* that local's register, or that upvalue's number (from 0) */
    const char *name; /* name_len bytes; NULL without debug information */
    size_t name_len;
} vd_chunk_upval_t;

typedef struct vd_chunk_fn {
    const char *source; /* the chunk name ("@path"), source_len bytes; NULL when stripped */
    size_t source_len;
    int line_defined, last_line;
    int is_vararg;
    const unsigned char *code; /* ncode instructions of 4 bytes (read with vd_chunk_ins) */
    size_t ncode;
    vd_chunk_const_t *k;
    size_t nk;
    vd_chunk_upval_t *up;
    size_t nup;
    struct vd_chunk_fn *protos; /* the functions it defines */
    size_t nprotos;
    const signed char *lineinfo; /* per instruction, the line change since the one before */
    size_t nlineinfo;
    int *abslines; /* nabs pairs (instruction, line) where a change did not fit a byte */
    size_t nabs;
} vd_chunk_fn_t;

typedef struct vd_chunk {
    unsigned char *data; /* the dump; the functions' strings and code point into it */
    size_t len;
    vd_arena_t arena;
    vd_chunk_fn_t main;
} vd_chunk_t;

/* Reads a copy of the dump data[0..len). Returns 0; VD_EINVAL when it is not a whole 5.4 chunk
 * of this build's format, VD_ENOMEM. Close c in every case. */
int vd_chunk_read(vd_chunk_t *c, const void *data, size_t len);

/* Dumps the Lua function at idx of L (with its debug information unless strip) and reads it.
 * Returns 0, VD_EINVAL (a C function, or a chunk this reader refuses) or VD_ENOMEM. Close c in
 * every case. */
int vd_chunk_dump(lua_State *L, int idx, int strip, vd_chunk_t *c);

void vd_chunk_close(vd_chunk_t *c);

/* Instruction pc (< f->ncode) of f. */
uint32_t vd_chunk_ins(const vd_chunk_fn_t *f, size_t pc);

/* The source line of instruction pc of f, or -1 when the chunk does not say. */
int vd_chunk_line(const vd_chunk_fn_t *f, size_t pc);

/* Constant i of f when it is a string (its length in *len), else NULL. */
const char *vd_chunk_kstr(const vd_chunk_fn_t *f, unsigned i, size_t *len);

#endif
