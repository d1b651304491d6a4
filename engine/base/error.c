#include "error.h"

const char *vd_strerror(int err) {
    switch (err) {
    case VD_OK:
        return "success";
#define VD_ERR_CASE(name, msg)                                                                     \
    case VD_E##name:                                                                               \
        return msg;
        VD_ERRNO_MAP(VD_ERR_CASE)
#undef VD_ERR_CASE
    default:
        return "unknown error";
    }
}
