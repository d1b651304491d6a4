#include "clock.h"

#include <stddef.h>
#include <time.h>

int64_t vd_now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

void vd_tick_origin_init(vd_tick_origin_t *o) {
    o->ticks = vd_ticks();
    o->ns = vd_now_ns();
}

double vd_tick_ns(const vd_tick_origin_t *o) {
    int64_t ns = vd_now_ns() - o->ns;
    uint64_t ticks = vd_ticks() - o->ticks;
    if (ns <= 0 || ticks == 0) return 0; /* no time has passed: nothing was timed either */
    return (double)ns / (double)ticks;
}

static int64_t system_now_s(void *ud) {
    (void)ud;
    return (int64_t)time(NULL);
}

const vd_clock_t vd_clock_system = {system_now_s, NULL};

int64_t vd_clock_now_s(const vd_clock_t *c) {
    return c && c->now_s ? c->now_s(c->ud) : system_now_s(NULL);
}
