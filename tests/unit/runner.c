/* Runs every unit suite, or the one named on the command line (as CTest does). */
#include "vd_test.h"

#include <CUnit/Basic.h>
#include <stdio.h>
#include <string.h>

static const struct {
    const char *name;
    void (*add)(void);
} suites[] = {
#define VD_SUITE_ENTRY(name) {#name, vd_suite_##name},
    VD_UNIT_SUITES(VD_SUITE_ENTRY)
#undef VD_SUITE_ENTRY
};

void vd_add_suite(const char *name, const vd_test_t *tests) {
    CU_pSuite s = CU_add_suite(name, NULL, NULL);
    for (; tests->name; tests++)
        CU_add_test(s, tests->name, tests->fn);
}

int main(int argc, char **argv) {
    if (CU_initialize_registry() != CUE_SUCCESS) return 2;
    int found = 0;
    for (size_t i = 0; i < sizeof suites / sizeof *suites; i++) {
        if (argc > 1 && strcmp(argv[1], suites[i].name) != 0) continue;
        suites[i].add();
        found = 1;
    }
    if (!found) {
        fprintf(stderr, "no suite named '%s'\n", argv[1]);
        CU_cleanup_registry();
        return 2;
    }
    CU_basic_set_mode(CU_BRM_VERBOSE);
    CU_basic_run_tests();
    unsigned failed = CU_get_number_of_failures() + CU_get_number_of_tests_failed();
    CU_cleanup_registry();
    return failed ? 1 : 0;
}
