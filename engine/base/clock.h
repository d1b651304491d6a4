/* Time, from one place: a monotonic clock for deadlines and latencies, and the wall clock a
 * decision sees, which a caller may supply (unit tests and replays of recorded traffic run
 * with the time the traffic had). */
#ifndef VD_CLOCK_H
#define VD_CLOCK_H

#include <stdint.h>

#if defined(__x86_64__) || defined(__i386__)
#include <x86intrin.h>
#endif

/* Monotonic time in nanoseconds: deadlines, latencies, elapsed_us. */
int64_t vd_now_ns(void);

/* A tick count for timing short spans on the request path (a rule's run), where a call to
 * vd_now_ns costs too much: the CPU's time-stamp counter on x86 (constant-rate on every
 * x86-64 CPU of the last fifteen years; Linux checks it before it makes it the clocksource)
 * and the virtual counter on AArch64, else vd_now_ns itself. Ticks are only subtracted from
 * each other on one thread and turned into time with a vd_tick_origin_t. */
static inline uint64_t vd_ticks(void) {
#if defined(__x86_64__) || defined(__i386__)
    return __rdtsc();
#elif defined(__aarch64__)
    uint64_t v;
    __asm__ volatile("mrs %0, cntvct_el0" : "=r"(v));
    return v;
#else
    return (uint64_t)vd_now_ns();
#endif
}

/* A moment read on both clocks: the tick rate is measured from it to the moment it is asked
 * for, over the process's lifetime rather than a calibration pause at start. */
typedef struct vd_tick_origin {
    uint64_t ticks;
    int64_t ns;
} vd_tick_origin_t;

void vd_tick_origin_init(vd_tick_origin_t *o);

/* Nanoseconds per tick, measured from o to now (within a part in a thousand once a few
 * milliseconds have passed). */
double vd_tick_ns(const vd_tick_origin_t *o);

/* A wall clock: seconds since the Unix epoch, as decisions and the state they keep see it. */
typedef struct vd_clock {
    int64_t (*now_s)(void *ud);
    void *ud;
} vd_clock_t;

/* The system's wall clock. */
extern const vd_clock_t vd_clock_system;

/* Reads c (NULL: the system's wall clock). */
int64_t vd_clock_now_s(const vd_clock_t *c);

#endif
