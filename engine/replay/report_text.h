/* The report as aligned text tables for a terminal (vd_report_write_text). */
#ifndef VD_REPLAY_REPORT_TEXT_H
#define VD_REPLAY_REPORT_TEXT_H

#include "replay/report_data.h"

#include <stdio.h>

int vd__report_text(const vd_report_t *r, FILE *out);

#endif
