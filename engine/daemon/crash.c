#include "crash.h"

#include "base/error.h"
#include "crash_line.h"
#include "plugin/activity.h"
#include "plugin/registry.h"
#include "plugin/stage.h"

#include <execinfo.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <ucontext.h>
#include <unistd.h>

#define ALT_STACK_BYTES ((size_t)64 * 1024) /* backtrace() unwinds on it */
#define MIN_ALT_STACK   ((size_t)32 * 1024)
#define MAX_FRAMES      128

static const int fatal_signals[] = {SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGABRT};

/* The sockets to remove (the ordinary one and the admin one): each written once the daemon
 * listens (sockets_owned last), read by the handler only. A crash in the few milliseconds
 * between the workers' start and then leaves the socket files behind, as before this report
 * existed. */
#define MAX_SOCKETS 2
static struct owned_socket {
    char path[sizeof(((struct sockaddr_un *)0)->sun_path)];
    dev_t dev;
    ino_t ino;
} sockets[MAX_SOCKETS];
static volatile sig_atomic_t sockets_owned;

static _Atomic long reporter;               /* the thread writing a report, 0: none */
static void (*_Atomic report_hook)(void *); /* vd_crash_on_report */
static void *_Atomic report_hook_arg;
static _Thread_local void *alt_stack_mem; /* this thread's alternate signal stack */

static const char *signal_name(int sig) {
    switch (sig) {
    case SIGSEGV:
        return "SIGSEGV";
    case SIGBUS:
        return "SIGBUS";
    case SIGFPE:
        return "SIGFPE";
    case SIGILL:
        return "SIGILL";
    case SIGABRT:
        return "SIGABRT";
    }
    return "signal";
}

/* What si_code says about the fault, in words; NULL when there is nothing to add. */
static const char *code_text(int sig, int code) {
    if (code == SI_USER) return "sent by kill()";
    if (code == SI_TKILL) return "raised by the process itself: abort(), raise() or tgkill()";
    if (sig == SIGSEGV && code == SEGV_MAPERR) return "address not mapped";
    if (sig == SIGSEGV && code == SEGV_ACCERR) return "access not permitted at that address";
    if (sig == SIGBUS && code == BUS_ADRALN) return "misaligned address";
    if (sig == SIGBUS && code == BUS_ADRERR)
        return "no memory behind the address: a mapped file was truncated or overwritten?";
    if (sig == SIGBUS && code == BUS_OBJERR) return "hardware error";
    if (sig == SIGFPE && code == FPE_INTDIV) return "integer division by zero";
    if (sig == SIGFPE && code == FPE_INTOVF) return "integer overflow";
    if (sig == SIGFPE) return "floating-point exception";
    if (sig == SIGILL && code == ILL_ILLOPC) return "illegal instruction (or a compiler trap)";
    if (sig == SIGILL) return "illegal instruction";
    return NULL;
}

/* The instruction and stack pointers at the fault, where the architecture is known. */
static void registers(const void *uctx, uint64_t *pc, uint64_t *sp) {
    const ucontext_t *uc = uctx;
    *pc = *sp = 0;
#if defined(__x86_64__)
    *pc = (uint64_t)uc->uc_mcontext.gregs[REG_RIP];
    *sp = (uint64_t)uc->uc_mcontext.gregs[REG_RSP];
#elif defined(__aarch64__)
    *pc = uc->uc_mcontext.pc;
    *sp = uc->uc_mcontext.sp;
#else
    (void)uc;
#endif
}

/* Returns the faulting instruction's address, 0 when unknown. */
static uint64_t report_signal(int sig, const siginfo_t *si, const void *uctx, long tid) {
    vd_crash_line_t l;
    uint64_t pc, sp, addr = (uint64_t)(uintptr_t)si->si_addr;
    registers(uctx, &pc, &sp);
    vd_crash_line_start(&l);
    vd_crash_line_str(&l, "verdictd crashed: ");
    vd_crash_line_str(&l, signal_name(sig));
    vd_crash_line_str(&l, " (si_code ");
    if (si->si_code < 0) vd_crash_line_str(&l, "-");
    vd_crash_line_dec(&l, (uint64_t)(si->si_code < 0 ? -(int64_t)si->si_code : si->si_code));
    const char *why = code_text(sig, si->si_code);
    if (why) vd_crash_line_str(&l, ": "), vd_crash_line_str(&l, why);
    if (si->si_code <= 0) { /* sent, not a fault: si_addr means nothing, the sender does */
        vd_crash_line_str(&l, ") from pid ");
        vd_crash_line_dec(&l, (uint64_t)si->si_pid);
        addr = 0;
    } else {
        vd_crash_line_str(&l, ") at address ");
        vd_crash_line_hex(&l, addr);
    }
    if (pc) vd_crash_line_str(&l, ", pc "), vd_crash_line_hex(&l, pc);
    vd_crash_line_str(&l, ", thread ");
    vd_crash_line_dec(&l, (uint64_t)tid);
    if (sig == SIGSEGV && sp && addr && addr < sp + 4096 && addr + ALT_STACK_BYTES * 4 > sp)
        vd_crash_line_str(&l, " (next to the stack pointer: a stack overflow?)");
    vd_crash_line_end(&l);
    return pc;
}

static void report_activity(void) {
    const vd_plugin_activity_t *a = vd_plugin_activity_current();
    vd_crash_line_t l;
    vd_crash_line_start(&l);
    if (!a->lib) {
        vd_crash_line_str(&l, "no plugin code was running on this thread");
        vd_crash_line_end(&l);
        return;
    }
    vd_crash_line_str(&l, "in plugin '");
    vd_crash_line_str(&l, a->lib->name ? a->lib->name : a->lib->path);
    vd_crash_line_str(&l, "', ");
    vd_crash_line_str(&l, a->what);
    if (a->ps) {
        vd_crash_line_str(&l, "() of stage '");
        vd_crash_line_str(&l, a->ps->stage);
        vd_crash_line_str(&l, "' in pipeline '");
        vd_crash_line_str(&l, a->ps->pipeline);
        vd_crash_line_str(&l, "'");
    }
    vd_crash_line_str(&l, " (file ");
    vd_crash_line_str(&l, a->lib->path);
    vd_crash_line_str(&l, ", content xxh3-128 ");
    vd_crash_line_str(&l, a->lib->content);
    vd_crash_line_str(&l, ")");
    vd_crash_line_end(&l);
}

/* Removes each socket that is still the file this process bound. */
static void remove_sockets(void) {
    struct stat st;
    for (int i = 0; i < sockets_owned; i++) {
        const struct owned_socket *o = &sockets[i];
        vd_crash_line_t l;
        vd_crash_line_start(&l);
        if (lstat(o->path, &st) == 0 && st.st_dev == o->dev && st.st_ino == o->ino &&
            unlink(o->path) == 0)
            vd_crash_line_str(&l, "removed the socket ");
        else
            vd_crash_line_str(&l, "left alone the socket (gone, or another daemon's now) ");
        vd_crash_line_str(&l, o->path);
        vd_crash_line_end(&l);
    }
}

/* The frames from the faulting instruction on (the handler's own are left out), a run of
 * identical frames (a recursion) written once with its count. */
static void report_backtrace(uint64_t pc) {
    void *frames[MAX_FRAMES];
    vd_crash_line_t l;
    vd_crash_line_start(&l);
    vd_crash_line_str(&l, "backtrace (plugins show as their private copy, /proc/self/fd/N: see "
                          "the 'plugin ... loaded' lines above):");
    vd_crash_line_end(&l);
    int n = backtrace(frames, MAX_FRAMES), first = 0;
    for (int i = 0; pc && i < n; i++)
        if ((uint64_t)(uintptr_t)frames[i] == pc) first = i;
    for (int i = first, same; i < n; i += same) {
        for (same = 1; i + same < n && frames[i + same] == frames[i];)
            same++;
        backtrace_symbols_fd(&frames[i], 1, STDERR_FILENO);
        if (same == 1) continue;
        vd_crash_line_start(&l);
        vd_crash_line_str(&l, "  the frame above ");
        vd_crash_line_dec(&l, (uint64_t)same);
        vd_crash_line_str(&l, " times in a row");
        vd_crash_line_end(&l);
    }
}

static void on_fatal(int sig, siginfo_t *si, void *uctx) {
    long tid = syscall(SYS_gettid), none = 0;
    if (!atomic_compare_exchange_strong(&reporter, &none, tid)) {
        if (none != tid) /* another thread is reporting and will end the process */
            for (;;)
                pause();
        signal(sig, SIG_DFL); /* a fault inside the report: give up on it */
        raise(sig);
        return;
    }
    uint64_t pc = report_signal(sig, si, uctx, tid);
    report_activity();
    remove_sockets();
    void (*hook)(void *) = atomic_load(&report_hook);
    if (hook) hook(atomic_load(&report_hook_arg));
    alarm(10); /* the unwinder takes the loader's lock: never wait for it for ever */
    report_backtrace(pc);
    vd_crash_line_t l;
    vd_crash_line_start(&l);
    vd_crash_line_str(&l, "exiting on ");
    vd_crash_line_str(&l, signal_name(sig));
    vd_crash_line_str(&l, " with its default action (a core dump where enabled); run verdictd "
                          "under a supervisor that restarts it (docs/operations.md)");
    vd_crash_line_end(&l);
    signal(sig, SIG_DFL);
    raise(sig); /* pending until the handler returns; a fault also recurs at its instruction */
}

int vd_crash_thread_start(void) {
    stack_t ss;
    if (alt_stack_mem) return 0;
    /* One set up by someone else (AddressSanitizer's, in the test build) will do as well. */
    if (sigaltstack(NULL, &ss) == 0 && !(ss.ss_flags & SS_DISABLE) && ss.ss_size >= MIN_ALT_STACK)
        return 0;
    /* mmap'ed rather than malloc'ed: a runtime that unmaps a thread's alternate stack when the
     * thread ends (AddressSanitizer's does) can then do so with ours. */
    void *mem =
        mmap(NULL, ALT_STACK_BYTES, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (mem == MAP_FAILED) return VD_ENOMEM;
    ss = (stack_t){.ss_sp = mem, .ss_size = ALT_STACK_BYTES, .ss_flags = 0};
    if (sigaltstack(&ss, NULL) != 0) {
        munmap(mem, ALT_STACK_BYTES);
        return VD_ENOMEM;
    }
    alt_stack_mem = mem;
    return 0;
}

void vd_crash_thread_end(void) {
    if (!alt_stack_mem) return;
    stack_t ss = {.ss_flags = SS_DISABLE};
    sigaltstack(&ss, NULL);
    munmap(alt_stack_mem, ALT_STACK_BYTES);
    alt_stack_mem = NULL;
}

int vd_crash_install(void) {
    void *warm[2];
    backtrace(warm, 2); /* its first call may dlopen libgcc_s: not in a signal handler */
    int rc = vd_crash_thread_start();
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = on_fatal;
    sa.sa_flags = SA_SIGINFO | SA_ONSTACK;
    sigemptyset(&sa.sa_mask);
    for (size_t i = 0; i < sizeof fatal_signals / sizeof *fatal_signals; i++)
        if (sigaction(fatal_signals[i], &sa, NULL) != 0) rc = VD_EIO;
    return rc;
}

void vd_crash_on_report(void (*fn)(void *arg), void *arg) {
    atomic_store(&report_hook_arg, arg);
    atomic_store(&report_hook, fn);
}

void vd_crash_own_socket(const char *path) {
    struct stat st;
    if (sockets_owned == MAX_SOCKETS) return;
    struct owned_socket *o = &sockets[sockets_owned];
    size_t n = strlen(path);
    if (n >= sizeof o->path || lstat(path, &st) != 0) return;
    memcpy(o->path, path, n + 1);
    o->dev = st.st_dev;
    o->ino = st.st_ino;
    sockets_owned++;
}
