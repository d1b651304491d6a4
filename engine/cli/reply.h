/* What the verdict command prints for a reply of verdictd. */
#ifndef VD_CLI_REPLY_H
#define VD_CLI_REPLY_H

#include "verdict/client.h"

/* The text for reply r: its result as JSON (indented by 2, or on one line when compact) when
 * it succeeded, "error CODE: MESSAGE" when it carries an error (*is_error is then 1). Returns
 * a malloc'ed string, or NULL when out of memory. */
char *vd_cli_reply_text(const vd_client_reply_t *r, int compact, int *is_error);

#endif
