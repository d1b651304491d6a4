/* The report as JSON (vd_report_write_json). */
#ifndef VD_REPLAY_REPORT_JSON_H
#define VD_REPLAY_REPORT_JSON_H

#include "replay/report_data.h"

#include <stdio.h>

int vd__report_json(const vd_report_t *r, FILE *out);

#endif
