#include "upvalue_writes.h"

#include "chunk.h"

#include <string.h>

static void mark(uint8_t written[32], unsigned b) {
    written[b / 8] |= (uint8_t)(1u << (b % 8));
}

/* Sets in written the upvalues that f or the functions it defines assign. */
static void scan(const vd_chunk_fn_t *f, uint8_t written[32]) {
    for (size_t i = 0; i < f->ncode; i++) {
        uint32_t ins = vd_chunk_ins(f, i);
        if (vd_op(ins) == VD_OP_SETUPVAL) mark(written, vd_op_b(ins));
    }
    for (size_t i = 0; i < f->nprotos; i++) {
        const vd_chunk_fn_t *inner = &f->protos[i];
        uint8_t in[32] = {0};
        scan(inner, in);
        /* An upvalue of the nested function that is not a local here is one of this
         * function's upvalues: assigning it there assigns it here. */
        for (size_t j = 0; j < inner->nup && j < 256; j++)
            if ((in[j / 8] & (1u << (j % 8))) && !inner->up[j].instack)
                mark(written, inner->up[j].idx);
    }
}

int vd_lua_upvalue_writes(lua_State *L, int idx, uint8_t written[32]) {
    memset(written, 0, 32);
    vd_chunk_t c;
    int rc = vd_chunk_dump(L, idx, 1, &c);
    if (rc == 0) scan(&c.main, written);
    vd_chunk_close(&c);
    if (rc != 0) memset(written, 0xff, 32);
    return rc == 0 ? 0 : -1;
}
