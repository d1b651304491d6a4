/* Message statistics: numeric features of a message's structure and style (spec:
 * docs/textclf-features.md, section 5; mirrored by verdict_train/stats.py). */
#ifndef TEXTCLF_STATS_H
#define TEXTCLF_STATS_H

#include "message.h"

#define TC_NSTATS 22

/* The names, in order, without the "msg_" prefix the plugin adds. */
extern const char *const tc_stat_names[TC_NSTATS];

/* Computes the statistics of parsed pieces into out. Returns 0, or -1 when out of memory. */
int tc_stats(const tc_pieces_t *pc, double out[TC_NSTATS]);

#endif
