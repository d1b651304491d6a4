/* verdict decide --explain, for people: the decision, the arithmetic that chose its action,
 * and every stage and rule as a table (fired or not, score, detail, description, what it read:
 * features and state; what plugin stages set). --json prints the reply itself instead. */
#ifndef VD_CLI_EXPLAIN_RENDER_H
#define VD_CLI_EXPLAIN_RENDER_H

#include <jansson.h>
#include <stdio.h>

/* Writes the explanation of result (a decide reply with its trace and why) to out. Returns 0,
 * or -1 when result has no trace (the daemon was not asked to explain). */
int vd_cli_explain_render(FILE *out, const json_t *result);

#endif
