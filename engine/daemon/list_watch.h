/* Notices changed list files: a timer of the main loop hands vd_lists_check to the libuv pool,
 * one check at a time, so that rebuilding a large list never stalls a loop. */
#ifndef VD_LIST_WATCH_H
#define VD_LIST_WATCH_H

#include <uv.h>

typedef struct vd_list_watch {
    uv_timer_t timer;
    uv_work_t work;
    int busy;    /* a check is running in the pool */
    int running; /* the timer was started */
} vd_list_watch_t;

/* Looks at the files every interval_ms (0: never). */
void vd_list_watch_start(vd_list_watch_t *w, uv_loop_t *loop, int interval_ms);

/* Closes the timer; a check already running finishes on its own. */
void vd_list_watch_stop(vd_list_watch_t *w);

#endif
