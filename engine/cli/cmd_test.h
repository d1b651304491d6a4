/* verdict test [DIR]: the policy unit tests (`*_test.lua`) beside the policies in DIR, run
 * offline through the executor the daemon uses (docs/testing-policies.md). */
#ifndef VD_CLI_CMD_TEST_H
#define VD_CLI_CMD_TEST_H

/* Runs the command with its own arguments (argv[0] is "test"). Returns the exit status: 0
 * when every case passed, 1 when one failed or could not run, a test file has an error or the
 * policies do not load, 2 for a usage error. */
int vd_cmd_test(int argc, char **argv);

#endif
