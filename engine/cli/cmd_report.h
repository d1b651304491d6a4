/* `verdict report PIPELINE SUBJECT bad|good`: a person's verdict on a decision (by its id) or
 * on an event, for the campaigns it belongs to (docs/campaigns.md, "Reports"). */
#ifndef VD_CLI_CMD_REPORT_H
#define VD_CLI_CMD_REPORT_H

#include <stdio.h>

/* The options given before the command's name. */
typedef struct vd_cmd_report_opts {
    const char *socket;
    int compact;
    int timeout_ms;
} vd_cmd_report_opts_t;

/* Runs the command (argv[0] is "report"). Returns 0 when the report was taken (it reached a
 * campaign, or the subject belongs to none), 1 when it was not (an unknown decision, the
 * reporter past its limit, an error reply), 2 for a usage error, 3 when the daemon could not
 * be reached. */
int vd_cmd_report(int argc, char **argv, const vd_cmd_report_opts_t *given);

void vd_cmd_report_usage(FILE *out);

#endif
