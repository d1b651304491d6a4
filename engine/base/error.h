/* Error codes shared by every engine module: negative ints, one X-macro list. */
#ifndef VD_ERROR_H
#define VD_ERROR_H

#define VD_ERRNO_MAP(X)                                                                            \
    X(NOMEM, "out of memory")                                                                      \
    X(INVAL, "invalid argument")                                                                   \
    X(IO, "input/output error")                                                                    \
    X(POLICY, "policy error")                                                                      \
    X(PROTO, "protocol error")                                                                     \
    X(TOOLARGE, "message too large")                                                               \
    X(AGAIN, "incomplete, need more data")                                                         \
    X(NOTFOUND, "not found")                                                                       \
    X(TIMEOUT, "deadline exceeded")                                                                \
    X(BUSY, "resource busy")                                                                       \
    X(LIMIT, "limit exceeded")

enum {
    VD_OK = 0,
#define VD_ERR_ENUM(name, msg) VD_E##name,
    VD__ERR_FIRST = -100,
    VD_ERRNO_MAP(VD_ERR_ENUM)
#undef VD_ERR_ENUM
};

/* Human-readable text for a VD_E* code (or "unknown error"). Never NULL. */
const char *vd_strerror(int err);

#endif
