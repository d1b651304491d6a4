#include "clock.h"

#include <stddef.h>
#include <time.h>

int64_t vd_now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static int64_t system_now_s(void *ud) {
    (void)ud;
    return (int64_t)time(NULL);
}

const vd_clock_t vd_clock_system = {system_now_s, NULL};

int64_t vd_clock_now_s(const vd_clock_t *c) {
    return c && c->now_s ? c->now_s(c->ud) : system_now_s(NULL);
}
