/* libFuzzer target: the metrics endpoint's request reader, on arbitrary bytes read in pieces as
 * a client could send them. */
#include "daemon/http_request.h"

#include <stdint.h>
#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    vd_http_request_t whole = vd_http_request_read((const char *)data, size);
    /* Read a byte more at a time: once final, a verdict must not change with later bytes. */
    for (size_t n = 0; n <= size; n++) {
        vd_http_request_t r = vd_http_request_read((const char *)data, n);
        if (r.verdict == VD_HTTP_INCOMPLETE) continue;
        if (r.verdict != whole.verdict || r.head != whole.head) abort();
        break;
    }
    return 0;
}
