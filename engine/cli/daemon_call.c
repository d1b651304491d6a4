#include "daemon_call.h"

#include "reply.h"

#include <stdio.h>
#include <stdlib.h>

int vd_cli_call(const char *socket, int timeout_ms, const char *method,
                const msgpack_sbuffer *params, vd_client_t **client, vd_client_reply_t *reply) {
    char err[512];
    if (vd_client_connect(socket, client, err, sizeof err) != 0) {
        fprintf(stderr, "verdict: %s\n", err);
        return VD_CLI_EXIT_CONNECT;
    }
    if (vd_client_call(*client, method, params->data, params->size, reply, timeout_ms) != 0) {
        fprintf(stderr, "verdict: %s\n", vd_client_error(*client));
        vd_client_close(*client);
        return VD_CLI_EXIT_CONNECT;
    }
    return 0;
}

int vd_cli_print_reply(const vd_client_reply_t *r, int compact) {
    int is_error;
    char *s = vd_cli_reply_text(r, compact, &is_error);
    if (!s) {
        fprintf(stderr, "verdict: cannot render the reply as JSON\n");
        return VD_CLI_EXIT_RPC;
    }
    if (is_error)
        fprintf(stderr, "verdict: %s\n", s);
    else
        puts(s);
    free(s);
    return is_error ? VD_CLI_EXIT_RPC : 0;
}
