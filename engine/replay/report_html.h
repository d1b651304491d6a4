/* The report as one self-contained HTML page (vd_report_write_html). */
#ifndef VD_REPLAY_REPORT_HTML_H
#define VD_REPLAY_REPORT_HTML_H

#include "replay/report_data.h"

#include <stdio.h>

int vd__report_html(const vd_report_t *r, FILE *out);

#endif
