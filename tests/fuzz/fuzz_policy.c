/* libFuzzer target: the policy loader (Lua source, DSL, validation, the lines of errors), the
 * lint and a run of every pipeline it declares, on arbitrary policy text. */
#include "base/arena.h"
#include "exec/run.h"
#include "policy/lint.h"
#include "policy/policy.h"

#include <msgpack.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void run_all(vd_policy_t *p) {
    msgpack_sbuffer sb;
    msgpack_packer pk;
    msgpack_sbuffer_init(&sb);
    msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
    msgpack_pack_map(&pk, 2);
    msgpack_pack_str_with_body(&pk, "email", 5);
    msgpack_pack_str_with_body(&pk, "x@mailinator.com", 16);
    msgpack_pack_str_with_body(&pk, "n", 1);
    msgpack_pack_int(&pk, 7);
    msgpack_unpacked up;
    msgpack_unpacked_init(&up);
    msgpack_unpack_next(&up, sb.data, sb.size, NULL);
    for (size_t i = 0; i < p->npipelines; i++) {
        vd_arena_t arena;
        vd_arena_init(&arena);
        vd_decision_t d;
        vd_decision_init(&d, &arena, 1);
        vd_run_state_t rs = {0};
        (void)vd_pipeline_run(p, &p->pipelines[i], &up.data, &d, 0, &rs);
        vd_arena_close(&arena);
    }
    msgpack_unpacked_destroy(&up);
    msgpack_sbuffer_destroy(&sb);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    char *text = malloc(size + 1);
    if (!text) return 0;
    memcpy(text, data, size);
    text[size] = '\0';
    vd_src_file_t file = {.path = "fuzz.lua", .data = text, .len = size};
    vd_policy_src_t *src = calloc(1, sizeof *src);
    src->dir = strdup("fuzz");
    src->files = malloc(sizeof file);
    src->files[0] = file;
    src->files[0].path = strdup("fuzz.lua");
    src->nfiles = 1;
    atomic_init(&src->refs, 1);
    strcpy(src->version, "fuzz");
    const vd_lua_limits_t limits = {
        .mem_limit = 16u << 20, .instr_limit = 20000, .regex_limit = 10000};
    vd_policy_t *p;
    char err[1024];
    if (vd_policy_load(src, &limits, NULL, &p, err, sizeof err) == 0) {
        vd_lint_report_t lint;
        vd_policy_lint(p, &lint);
        vd_lint_report_free(&lint);
        run_all(p);
        vd_policy_unref(p);
    }
    vd_policy_src_unref(src);
    return 0;
}
