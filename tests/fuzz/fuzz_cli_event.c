/* libFuzzer target: `verdict decide`'s JSON event to decide params. The first byte picks the
 * options (explain, a deadline); the rest is what a person typed. A refusal says why; an
 * event that is packed makes a request verdictd reads as typed: one frame, an envelope that
 * decodes, params that decide accepts with the options given, the same JSON back (or, for an
 * event nested deeper than verdictd reads, a request it refuses). */
#include "cli/event.h"
#include "proto/decide_params.h"
#include "proto/frame.h"
#include "proto/inbound.h"
#include "proto/json_msgpack.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* verdictd decodes 32 levels of arrays and maps; the envelope and the params take two. */
#define EVENT_MAX_DEPTH 30

/* Levels of arrays and objects, the value's own included. */
static int depth(const json_t *j) {
    const char *key;
    size_t i;
    json_t *v;
    int deepest = 0;
    if (json_is_object(j)) {
        json_object_foreach((json_t *)j, key, v) {
            int d = depth(v);
            deepest = d > deepest ? d : deepest;
        }
    } else if (json_is_array(j)) {
        json_array_foreach(j, i, v) {
            int d = depth(v);
            deepest = d > deepest ? d : deepest;
        }
    } else {
        return 0;
    }
    return deepest + 1;
}

static void check_request(const char *req, size_t n, const char *json, size_t len,
                          const vd_cli_decide_opts_t *opts) {
    size_t frame;
    if (vd_frame_scan((const uint8_t *)req, n, n, &frame) != 0 || frame != n) abort();
    json_t *typed = json_loadb(json, len, JSON_REJECT_DUPLICATES, NULL);
    vd_inbound_t *in = vd_inbound_new();
    const char *why;
    vd_decide_params_t p;
    if (!typed || !in) abort();
    /* Deeper events are refused by verdictd, as documented; the rest must read as typed. */
    int deep = depth(typed) > EVENT_MAX_DEPTH;
    if ((vd_inbound_read(in, req, n, &why) != 0) != deep) abort();
    if (!deep) {
        if (vd_decide_params_read(in->msg.params, &p) || p.explain != opts->explain ||
            p.deadline_ms != opts->deadline_ms || p.pipeline_len != 6 ||
            memcmp(p.pipeline, "signup", 6) != 0)
            abort();
        json_t *sent = vd_msgpack_to_json(p.event);
        if (!json_equal(typed, sent)) abort();
        json_decref(sent);
    }
    json_decref(typed);
    vd_inbound_free(in);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size < 1) return 0;
    vd_cli_decide_opts_t opts = {.explain = data[0] & 1, .deadline_ms = (long)(data[0] >> 1) * 7};
    msgpack_sbuffer sb;
    msgpack_packer pk;
    msgpack_sbuffer_init(&sb);
    msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
    msgpack_pack_array(&pk, 4); /* the envelope the client library puts around the params */
    msgpack_pack_uint8(&pk, 0);
    msgpack_pack_uint32(&pk, 1);
    msgpack_pack_str_with_body(&pk, "decide", 6);
    const char *json = (const char *)data + 1;
    char err[512] = "";
    if (vd_cli_decide_params("signup", json, size - 1, &opts, &sb, err, sizeof err) != 0) {
        if (!err[0]) abort(); /* every refusal says why */
    } else {
        check_request(sb.data, sb.size, json, size - 1, &opts);
    }
    msgpack_sbuffer_destroy(&sb);
    return 0;
}
