/* `verdict log FILE...`: reads decision logs offline (no daemon), filters their records and
 * prints them readably, as JSON Lines or as counts. docs/decision-log.md describes it. */
#ifndef VD_CLI_CMD_LOG_H
#define VD_CLI_CMD_LOG_H

#include <stdio.h>

/* Runs the command; argv[0] is "log". Returns the exit status: 0 when every line was read,
 * 1 when some were skipped (malformed, cut short, unreadable files), 2 for a usage error. */
int vd_cmd_log(int argc, char **argv);

/* The command's options, for `verdict --help` and `verdict log --help`. */
void vd_cmd_log_usage(FILE *out);

#endif
