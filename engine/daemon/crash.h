/* Crash reports. Plugins run inside verdictd, so a fault in one (or in the engine) kills the
 * process; what the host can do is say so clearly and get out of the way of a restart. On
 * SIGSEGV, SIGBUS, SIGFPE, SIGILL or SIGABRT the handler writes to the log (stderr), with
 * async-signal-safe calls only: the signal and its si_code, the faulting address, the plugin,
 * stage and pipeline the thread was running (plugin/activity.h), and a backtrace with symbol
 * names. It then removes the socket file and re-raises the signal with its default action
 * (a core dump where enabled), so that the exit is non-zero and a supervisor restarts the
 * daemon (docs/operations.md).
 *
 * A handler gets no user pointer, so what it needs (the socket path) is kept in this file. */
#ifndef VD_CRASH_H
#define VD_CRASH_H

/* Installs the handlers, gives the calling thread an alternate signal stack and loads what
 * backtrace() loads on its first call. Call once from main before any thread starts.
 * Returns 0, or VD_ENOMEM / VD_EIO (the daemon then runs without crash reports). */
int vd_crash_install(void);

/* From now on a crash removes the socket file at path, if the file there is still the one
 * this process bound (a daemon started since keeps its own). path is copied; called once per
 * socket (two at most: the ordinary one and the admin one). */
void vd_crash_own_socket(const char *path);

/* From now on a crash calls fn(arg) after the report's first lines, before the backtrace: fn
 * must be async-signal-safe (the decision log lets a write in progress finish). One at most. */
void vd_crash_on_report(void (*fn)(void *arg), void *arg);

/* Gives the calling thread an alternate signal stack, so that a stack overflow is reported
 * too; does nothing when it has one. Call first in every thread verdictd starts. Returns 0 or
 * VD_ENOMEM. */
int vd_crash_thread_start(void);

/* Frees the calling thread's alternate stack; call last in a thread vd_crash_thread_start
 * prepared. */
void vd_crash_thread_end(void);

#endif
