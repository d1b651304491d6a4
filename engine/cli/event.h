/* The event of `verdict decide`, from the JSON a person typed to the msgpack params of a
 * decide request. */
#ifndef VD_CLI_EVENT_H
#define VD_CLI_EVENT_H

#include <msgpack.h>
#include <stddef.h>

/* The decide options the command line can set. */
typedef struct vd_cli_decide_opts {
    int explain;      /* add the per-stage trace */
    long deadline_ms; /* 0: none */
} vd_cli_decide_opts_t;

/* Packs the params [pipeline, event] (with a third element, the options map, when any is set)
 * into sb, from json[0..len), which must be one JSON object. Returns 0, or -1 with the reason
 * for the person who typed it in err (the line and column of a JSON error). */
int vd_cli_decide_params(const char *pipeline, const char *json, size_t len,
                         const vd_cli_decide_opts_t *opts, msgpack_sbuffer *sb, char *err,
                         size_t errlen);

/* Packs the event json[0..len), which must be one JSON object. Returns 0, or -1 with the
 * reason in err (nothing packed then). */
int vd_cli_event_pack(msgpack_packer *pk, const char *json, size_t len, char *err, size_t errlen);

/* All of stdin, NUL-terminated (an event given as -); *len counts the bytes read. NULL when
 * out of memory. */
char *vd_cli_read_stdin(size_t *len);

#endif
