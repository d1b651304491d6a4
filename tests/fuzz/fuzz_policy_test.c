/* libFuzzer target: the reader of policy test files (verdict test), on arbitrary test file
 * text: the sandbox, test/merge/absent, every key of a case and its expectations, events
 * packed as msgpack, and the lines found for each key. */
#include "ptest/suite.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    char *text = malloc(size + 1);
    if (!text) return 0;
    memcpy(text, data, size);
    text[size] = '\0';
    vd_ptest_suite_t s;
    vd_ptest_suite_init(&s);
    s.instr_limit = 20000;
    (void)vd_ptest_suite_read_text(&s, "fuzz/reset_test.lua", text, size);
    vd_ptest_suite_close(&s);
    free(text);
    return 0;
}
