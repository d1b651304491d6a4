/* Time, from one place: a monotonic clock for deadlines and latencies, and the wall clock a
 * decision sees, which a caller may supply (unit tests and replays of recorded traffic run
 * with the time the traffic had). */
#ifndef VD_CLOCK_H
#define VD_CLOCK_H

#include <stdint.h>

/* Monotonic time in nanoseconds: deadlines, latencies, elapsed_us. */
int64_t vd_now_ns(void);

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
