#include "methods.h"

#include "method_admin.h"
#include "method_decide.h"
#include "method_stats.h"

#include <string.h>

#define VD_METHOD_ENTRY(name, fn) {name, fn},
static const vd_method_t methods[] = {VD_METHODS(VD_METHOD_ENTRY)};
#undef VD_METHOD_ENTRY

#define VD_METHOD_NAME(name, fn) ", " name
static const char names[] = VD_METHODS(VD_METHOD_NAME);
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
