/* An anomaly model's answer as the decision log kept it (the Lua binding's observation:
 * {value, score, expected, low, high, surprise, seen, flags, every}), read back for a replay. */
#ifndef VD_ANOMALY_RECORD_H
#define VD_ANOMALY_RECORD_H

#include "state/anomaly_model.h"

#include <stddef.h>
#include <stdint.h>

/* Fills r from the msgpack map packed[0..plen) when it holds every field and answers a call
 * with this value and period (every): 0; else -1 (a record from before these fields were kept,
 * a candidate asking something else, or bytes that are not such a map). */
int vd_anomaly_from_record(const char *packed, size_t plen, double value, int64_t every,
                           vd_anomaly_result_t *r);

#endif
