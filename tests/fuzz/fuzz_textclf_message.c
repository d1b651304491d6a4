/* libFuzzer target: the textclf message parser (MIME, headers, decoders, HTML, tokens) and
 * its statistics, on raw messages. Nothing may crash or leak, and with libFuzzer's -timeout
 * a slow input is a finding: parsing must stay linear in the message size. */
#include "../../plugins/textclf/features.h"
#include "../../plugins/textclf/stats.h"

#include <stdint.h>
#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    uint32_t *buckets;
    size_t n;
    if (tc_message_buckets(data, size, 20, 0, &buckets, &n) == 0) free(buckets);
    tc_pieces_t pc;
    double st[TC_NSTATS];
    if (tc_parse(data, size, &pc) == 0) (void)tc_stats(&pc, st);
    tc_pieces_free(&pc);
    return 0;
}
