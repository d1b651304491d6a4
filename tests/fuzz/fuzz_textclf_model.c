/* libFuzzer target: the textclf plugin's model file reader and its checks. A refusal must
 * name the file and say why; a model that loads must score a message as the plugin does,
 * without reading outside its table, to a finite log-odds. */
#include "../../plugins/textclf/features.h"
#include "../../plugins/textclf/model.h"

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The seeds hold weights for this message's buckets, so mutations reach the sum. */
static const char message[] = "From: Prize Desk <win@prizes.example>\r\n"
                              "Subject: You WON $1000!!!\r\n"
                              "\r\n"
                              "Claim your FREE cash now: http://claim.prizes.example/now\r\n";

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    tc_model_t m;
    char err[512] = "";
    if (tc_model_parse(data, size, "fuzz.bin", &m, err, sizeof err) != 0) {
        if (strncmp(err, "fuzz.bin: ", 10) != 0 || !err[10]) abort(); /* names file and why */
        return 0;
    }
    uint32_t *buckets;
    size_t n;
    if (tc_message_buckets((const unsigned char *)message, sizeof message - 1, m.bits, m.seed,
                           &buckets, &n) == 0) {
        if (!isfinite(tc_model_log_odds(&m, buckets, n))) abort();
        free(buckets);
    }
    tc_model_free(&m);
    return 0;
}
