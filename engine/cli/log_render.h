/* The readable view of a decision-log line for `verdict log`: a header (time, id, pipeline,
 * action and score), then the event cut to one line, reasons with their details, tags, what
 * stopped the pipeline, faults and what the shadow stages would have done differently. ANSI
 * colours when asked. Text from the log is printed with its control characters replaced, so
 * a record cannot drive the terminal. */
#ifndef VD_CLI_LOG_RENDER_H
#define VD_CLI_LOG_RENDER_H

#include <stddef.h>
#include <stdio.h>

/* Prints the line (a checked record, or a typed line: then its type and its JSON) followed by
 * a blank line. Returns 0, or -1 with err set when jansson cannot read the line. */
int vd_log_render(FILE *out, const char *line, size_t len, int color, char *err, size_t errlen);

/* Writes s[0..n) with controls (and DEL) as '?'. */
void vd_log_put_text(FILE *out, const char *s, size_t n);

/* The columns vd_log_put_text takes for s[0..n): one per character. */
size_t vd_log_text_width(const char *s, size_t n);

#endif
