/* The request of a metrics client: the request line and the end of the header, read from
 * bytes that anyone who can reach the port may send. */
#ifndef VD_DAEMON_HTTP_REQUEST_H
#define VD_DAEMON_HTTP_REQUEST_H

#include <stddef.h>

typedef enum {
    VD_HTTP_INCOMPLETE, /* the header has not ended yet: read on */
    VD_HTTP_METRICS,    /* GET or HEAD of /metrics (a query string is ignored) */
    VD_HTTP_NOT_FOUND,  /* GET or HEAD of another path */
    VD_HTTP_METHOD,     /* another method */
    VD_HTTP_BAD,        /* not an HTTP/1.x request: a NUL or control byte, no version, ... */
} vd_http_verdict_t;

typedef struct vd_http_request {
    vd_http_verdict_t verdict;
    int head; /* HEAD: the answer carries no body */
} vd_http_request_t;

/* Reads the len bytes received so far. A verdict other than VD_HTTP_INCOMPLETE is final. */
vd_http_request_t vd_http_request_read(const char *buf, size_t len);

#endif
