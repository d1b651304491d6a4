#include "methods.h"

#include "method_admin.h"
#include "method_decide.h"
#include "method_list.h"
#include "method_report.h"
#include "method_state.h"
#include "method_stats.h"

#include <string.h>

#define VD_METHOD_ENTRY(name, fn) {name, fn, 0},
#define VD_ADMIN_ENTRY(name, fn)  {name, fn, 1},
static const vd_method_t methods[] = {VD_METHODS(VD_METHOD_ENTRY) VD_ADMIN_METHODS(VD_ADMIN_ENTRY)};
#undef VD_METHOD_ENTRY
#undef VD_ADMIN_ENTRY

#define VD_METHOD_NAME(name, fn) ", " name
static const char names[] = VD_METHODS(VD_METHOD_NAME) VD_ADMIN_METHODS(VD_METHOD_NAME);
#undef VD_METHOD_NAME

const vd_method_t *vd_method_find(const char *name, size_t len) {
    for (size_t i = 0; i < sizeof methods / sizeof *methods; i++)
        if (strlen(methods[i].name) == len && memcmp(methods[i].name, name, len) == 0)
            return &methods[i];
    return NULL;
}

const char *vd_method_names(void) {
    return names + 2; /* past the first ", " */
}
