/* One call to a running verdictd, as every daemon command of `verdict` makes it. */
#ifndef VD_CLI_DAEMON_CALL_H
#define VD_CLI_DAEMON_CALL_H

#include "verdict/client.h"

#include <msgpack.h>

/* Exit statuses of the daemon's commands (`verdict list check` has its own). */
enum { VD_CLI_EXIT_RPC = 1, VD_CLI_EXIT_USAGE = 2, VD_CLI_EXIT_CONNECT = 3 };

/* Connects to the daemon at socket, calls method with params (a packed array) and waits up to
 * timeout_ms for the reply. Returns 0 with the connection in *client and its reply in *reply
 * (valid until vd_client_close(*client)), or VD_CLI_EXIT_CONNECT after saying why on stderr
 * (nothing to close then). */
int vd_cli_call(const char *socket, int timeout_ms, const char *method,
                const msgpack_sbuffer *params, vd_client_t **client, vd_client_reply_t *reply);

/* Prints the reply: its result as JSON on stdout (indented, or on one line when compact), or
 * its error on stderr. Returns 0, or VD_CLI_EXIT_RPC for an error. */
int vd_cli_print_reply(const vd_client_reply_t *r, int compact);

#endif
