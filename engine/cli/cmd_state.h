/* `verdict state get|set|reset KIND KEY ...` and `verdict list check LIST VALUE`: the
 * counters, distinct counts and labels rules keep, and the lists they read, in a running
 * verdictd (docs/operations.md, "The admin socket"). They talk to the admin socket when
 * $VERDICT_ADMIN_SOCKET names it, else to the socket every daemon command defaults to. */
#ifndef VD_CLI_CMD_STATE_H
#define VD_CLI_CMD_STATE_H

#include <stdio.h>

/* The options given before the command's name. */
typedef struct vd_cmd_state_opts {
    const char *socket;   /* --socket, or NULL */
    const char *fallback; /* without --socket or $VERDICT_ADMIN_SOCKET: $VERDICT_SOCKET, else
                             ./verdict.sock, as for every daemon command */
    int compact;          /* one-line JSON */
    int timeout_ms;       /* for the reply */
} vd_cmd_state_opts_t;

/* Runs the command; argv[0] is "state" or "list". Returns the exit status: for state, 0 on
 * success, 1 when the daemon answered an error, 2 for a usage error, 3 when it could not be
 * reached; for list check, 0 when the value is in the list, 1 when it is not, 2 on any error. */
int vd_cmd_state(int argc, char **argv, const vd_cmd_state_opts_t *given);

/* The commands' usage, for `verdict state --help` and `verdict list --help`. */
void vd_cmd_state_usage(FILE *out);

#endif
