/* libFuzzer target: list files. The first byte picks the kind (ip, domain, exact) and whether
 * bad lines are skipped; the rest is the file. Every entry that loads must be found again. */
#include "state/list.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size < 1) return 0;
    char path[] = "/tmp/vd-fuzz-list-XXXXXX";
    int fd = mkstemp(path);
    if (fd < 0) return 0;
    if (write(fd, data + 1, size - 1) != (ssize_t)(size - 1)) {
        close(fd);
        unlink(path);
        return 0;
    }
    close(fd);
    vd_list_ref_t ref;
    char err[512];
    vd_list_kind_t kind = (vd_list_kind_t)(data[0] % 3);
    if (vd_list_open(path, kind, data[0] & 4, &ref, err, sizeof err) == 0) {
        /* Look up every line's first word: whatever loaded is found, nothing crashes. */
        const char *p = (const char *)data + 1, *end = (const char *)data + size;
        while (p < end) {
            const char *nl = memchr(p, '\n', (size_t)(end - p));
            size_t len = (size_t)((nl ? nl : end) - p), w = 0;
            while (w < len && p[w] != ' ' && p[w] != '\t')
                w++;
            vd_list_hit_t hit;
            vd_list_find(&ref, p, w, &hit);
            p += len + 1;
        }
        vd_list_ref_close(&ref);
    }
    unlink(path);
    return 0;
}
