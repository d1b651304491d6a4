/* verdict replay: the subcommand (docs/backtesting.md). */
#ifndef VD_CMD_REPLAY_H
#define VD_CMD_REPLAY_H

/* Runs `verdict replay` with its own arguments (argv[0] is "replay"); returns the exit status. */
int vd_cmd_replay(int argc, char **argv);

#endif
