#include "activity.h"

_Thread_local vd_plugin_activity_t vd__plugin_activity;

const vd_plugin_activity_t *vd_plugin_activity_current(void) {
    return &vd__plugin_activity;
}
