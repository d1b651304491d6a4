#include "base/arena.h"
#include "decision/decision.h"
#include "vd_test.h"

#include <stdint.h>
#include <string.h>

static void test_alignment_and_growth(void) {
    vd_arena_t a;
    vd_arena_init(&a);
    for (int i = 0; i < 1000; i++) {
        void *p = vd_arena_alloc(&a, (size_t)(i % 37) + 1);
        CU_ASSERT_PTR_NOT_NULL_FATAL(p);
        CU_ASSERT_EQUAL((uintptr_t)p % _Alignof(max_align_t), 0);
        memset(p, 0xab, (size_t)(i % 37) + 1);
    }
    void *big = vd_arena_alloc(&a, 1 << 20);
    CU_ASSERT_PTR_NOT_NULL(big);
    vd_arena_reset(&a);
    CU_ASSERT_PTR_NOT_NULL(vd_arena_alloc(&a, 100));
    vd_arena_close(&a);
}

static void test_vec_and_tags(void) {
    vd_arena_t a;
    vd_arena_init(&a);
    vd_decision_t d;
    vd_decision_init(&d, &a, 0);
    for (int i = 0; i < 100; i++)
        CU_ASSERT_EQUAL(vd_decision_add_tag(&d, 0, "dup", 3), 0);
    CU_ASSERT_EQUAL(d.main.tags.len, 1);
    CU_ASSERT_EQUAL(vd_decision_add_reason(&d, 0, "r", "s", 2.5, "why", 3), 0);
    CU_ASSERT_EQUAL(vd_decision_add_reason(&d, 1, "r", "s", 1.0, NULL, 0), 0);
    CU_ASSERT_DOUBLE_EQUAL(d.main.score, 2.5, 1e-12);
    CU_ASSERT_DOUBLE_EQUAL(d.shadow.score, 1.0, 1e-12);
    CU_ASSERT(d.has_shadow);
    vd_value_t v = {.type = VD_VAL_STR, .u.s = {"hello", 5}};
    CU_ASSERT_EQUAL(vd_decision_set_feature(&d, 0, "greeting", 8, &v), 0);
    v.u.s.ptr = "bye";
    v.u.s.len = 3;
    CU_ASSERT_EQUAL(vd_decision_set_feature(&d, 0, "greeting", 8, &v), 0);
    CU_ASSERT_EQUAL(d.features.len, 1);
    const vd_feature_t *f = vd_decision_feature(&d, "greeting", 8, 0);
    CU_ASSERT_PTR_NOT_NULL_FATAL(f);
    CU_ASSERT_STRING_EQUAL(f->value.u.s.ptr, "bye");
    CU_ASSERT_EQUAL(vd_decision_set_feature(&d, 1, "hidden", 6, &v), 0);
    CU_ASSERT_PTR_NULL(vd_decision_feature(&d, "hidden", 6, 0));
    CU_ASSERT_PTR_NOT_NULL(vd_decision_feature(&d, "hidden", 6, 1));
    vd_arena_close(&a);
}

void vd_suite_arena(void) {
    static const vd_test_t tests[] = {{"alignment and growth", test_alignment_and_growth},
                                      {"decision vectors, tags, features", test_vec_and_tags},
                                      {NULL, NULL}};
    vd_add_suite("arena", tests);
}
