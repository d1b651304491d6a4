/* libFuzzer target: the reader of compiled Lua functions (lua/chunk.h), which the policy lint and
 * the upvalue guard rely on. Whatever the bytes, it must refuse or read them without reading past
 * them, and everything it hands out (instructions, lines, constants, nested functions) must be
 * safe to look at. */
#include "lua/chunk.h"

#include <stdint.h>
#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static size_t look(const vd_chunk_fn_t *f) {
    size_t sum = 0;
    for (size_t pc = 0; pc < f->ncode; pc++) {
        uint32_t ins = vd_chunk_ins(f, pc);
        size_t len = 0;
        sum += (size_t)vd_chunk_line(f, pc);
        sum += vd_chunk_kstr(f, vd_op_b(ins), &len) ? len : 0;
        sum += vd_chunk_kstr(f, vd_op_c(ins), &len) ? len : 0;
        sum += vd_chunk_kstr(f, vd_op_bx(ins), &len) ? len : 0;
    }
    for (size_t i = 0; i < f->nup; i++)
        sum += f->up[i].name ? f->up[i].name[0] + f->up[i].name_len : f->up[i].idx;
    sum += f->source_len ? (size_t)f->source[f->source_len - 1] : 0;
    for (size_t i = 0; i < f->nprotos; i++)
        sum += look(&f->protos[i]);
    return sum;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    vd_chunk_t c;
    if (vd_chunk_read(&c, data, size) == 0) {
        volatile size_t sum = look(&c.main);
        (void)sum;
    }
    vd_chunk_close(&c);
    return 0;
}
