#include "record.h"

#include "proto/json_read.h"
#include "proto/rpc.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

const msgpack_object *vd_replay_get(const msgpack_object *m, const char *key) {
    return vd_rpc_map_get(m, key, strlen(key), 0);
}

static int digits(const char *s, int n, int *out) {
    int v = 0;
    for (int i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9') return -1;
        v = v * 10 + (s[i] - '0');
    }
    *out = v;
    return 0;
}

/* 2026-11-30T06:09:33.767Z, 2026-11-30T06:09:33+01:00, 2026-11-30 06:09:33 */
static int64_t rfc3339_ms(const char *s, size_t n) {
    char buf[48];
    if (n < 19 || n >= sizeof buf) return -1;
    memcpy(buf, s, n);
    buf[n] = '\0';
    struct tm tm = {0};
    int y, mo, d, h, mi, sec;
    if (digits(buf, 4, &y) || buf[4] != '-' || digits(buf + 5, 2, &mo) || buf[7] != '-' ||
        digits(buf + 8, 2, &d) || (buf[10] != 'T' && buf[10] != 't' && buf[10] != ' ') ||
        digits(buf + 11, 2, &h) || buf[13] != ':' || digits(buf + 14, 2, &mi) || buf[16] != ':' ||
        digits(buf + 17, 2, &sec))
        return -1;
    /* timegm would carry a month 13 or a 31st of February over into the next: not a time. */
    if (mo < 1 || mo > 12 || d < 1 || h > 23 || mi > 59 || sec > 60) return -1;
    tm.tm_year = y - 1900, tm.tm_mon = mo - 1, tm.tm_mday = d;
    tm.tm_hour = h, tm.tm_min = mi, tm.tm_sec = sec < 60 ? sec : 59; /* a leap second: below */
    time_t t = timegm(&tm);
    if (tm.tm_mday != d) return -1; /* timegm normalised it past the month's end */
    int64_t ms = ((int64_t)t + (sec == 60)) * 1000;
    const char *p = buf + 19;
    if (*p == '.') {
        int scale = 100;
        for (p++; *p >= '0' && *p <= '9'; p++, scale /= 10)
            ms += scale * (*p - '0');
    }
    if (*p == 'Z' || *p == 'z' || *p == '\0') return *p && p[1] ? -1 : ms;
    int oh, om;
    if ((*p != '+' && *p != '-') || digits(p + 1, 2, &oh) || p[3] != ':' || digits(p + 4, 2, &om) ||
        p[6] || oh > 23 || om > 59)
        return -1;
    int64_t off = ((int64_t)oh * 60 + om) * 60000;
    return *p == '+' ? ms - off : ms + off;
}

int64_t vd_replay_time_ms(const msgpack_object *v) {
    if (!v) return -1;
    double t;
    switch (v->type) {
    case MSGPACK_OBJECT_POSITIVE_INTEGER:
        t = (double)v->via.u64;
        break;
    case MSGPACK_OBJECT_NEGATIVE_INTEGER:
        return -1;
    case MSGPACK_OBJECT_FLOAT32:
    case MSGPACK_OBJECT_FLOAT64:
        t = v->via.f64;
        break;
    case MSGPACK_OBJECT_STR:
        return rfc3339_ms(v->via.str.ptr, v->via.str.size);
    default:
        return -1;
    }
    /* Past the year 9999 (a number in the wrong unit, 1e300, infinity) is no time: converting
     * it to an integer would be undefined. */
    if (!(t >= 0) || t >= 253402300800000.0) return -1;
    return t > 1e11 ? (int64_t)t : (int64_t)(t * 1000); /* milliseconds past 1973 in seconds */
}

static const char *copy_str(msgpack_zone *z, const msgpack_object *o, size_t *len) {
    if (!o || o->type != MSGPACK_OBJECT_STR) return NULL;
    char *p = msgpack_zone_malloc(z, o->via.str.size + 1);
    if (!p) return NULL;
    memcpy(p, o->via.str.ptr, o->via.str.size);
    p[o->via.str.size] = '\0';
    *len = o->via.str.size;
    return p;
}

static int64_t int_of(const msgpack_object *o) {
    if (!o) return -1;
    if (o->type == MSGPACK_OBJECT_POSITIVE_INTEGER) return (int64_t)o->via.u64;
    if (o->type == MSGPACK_OBJECT_NEGATIVE_INTEGER) return o->via.i64;
    return -1;
}

/* A recorded value as msgpack bytes again (zone memory), as the engine keeps them. */
static int repack(msgpack_zone *z, const msgpack_object *v, vd_observed_t *o) {
    msgpack_sbuffer sb;
    msgpack_sbuffer_init(&sb);
    msgpack_packer pk;
    msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
    msgpack_pack_object(&pk, *v);
    char *bytes = sb.size ? msgpack_zone_malloc(z, sb.size) : NULL;
    if (bytes) memcpy(bytes, sb.data, sb.size);
    o->packed = bytes;
    o->plen = sb.size;
    msgpack_sbuffer_destroy(&sb);
    return bytes ? 0 : -1;
}

/* observed.state and observed.plugins into vd_observed_t items (zone memory). */
static int read_observed(vd_replay_rec_t *r, const msgpack_object *obs, msgpack_zone *z) {
    const msgpack_object *state = vd_replay_get(obs, "state"),
                         *plugins = vd_replay_get(obs, "plugins");
    size_t n = (state && state->type == MSGPACK_OBJECT_ARRAY ? state->via.array.size : 0) +
               (plugins && plugins->type == MSGPACK_OBJECT_MAP ? plugins->via.map.size : 0);
    r->nobserved = 0;
    if (!n) return 0;
    r->observed = msgpack_zone_malloc(z, n * sizeof *r->observed);
    if (!r->observed) return -1;
    for (uint32_t i = 0; state && state->type == MSGPACK_OBJECT_ARRAY && i < state->via.array.size;
         i++) {
        const msgpack_object *s = &state->via.array.ptr[i];
        const msgpack_object *op = vd_replay_get(s, "op"), *res = vd_replay_get(s, "result");
        vd_observed_t o = {0};
        if (!op || op->type != MSGPACK_OBJECT_STR) continue;
        if (op->via.str.size == 7 && memcmp(op->via.str.ptr, "counter", 7) == 0)
            o.kind = VD_OBS_COUNTER;
        else if (op->via.str.size == 8 && memcmp(op->via.str.ptr, "distinct", 8) == 0)
            o.kind = VD_OBS_DISTINCT;
        else if (op->via.str.size == 7 && memcmp(op->via.str.ptr, "labeled", 7) == 0)
            o.kind = VD_OBS_LABELED;
        else if (op->via.str.size == 8 && memcmp(op->via.str.ptr, "campaign", 8) == 0)
            o.kind = VD_OBS_CAMPAIGN;
        else if (op->via.str.size == 7 && memcmp(op->via.str.ptr, "anomaly", 7) == 0)
            o.kind = VD_OBS_ANOMALY;
        else if (op->via.str.size == 7 && memcmp(op->via.str.ptr, "profile", 7) == 0)
            o.kind = VD_OBS_PROFILE;
        else
            continue;
        if (!(o.name = copy_str(z, vd_replay_get(s, "key"), &o.len))) continue;
        if (o.kind == VD_OBS_ANOMALY || o.kind == VD_OBS_PROFILE) { /* read by the binding */
            if (res && res->type == MSGPACK_OBJECT_MAP && repack(z, res, &o) == 0)
                r->observed[r->nobserved++] = o;
            continue;
        }
        if (o.kind == VD_OBS_CAMPAIGN) {
            o.value = copy_str(z, vd_replay_get(s, "source"), &o.vlen);
            if (res && repack(z, res, &o) == 0) r->observed[r->nobserved++] = o;
            continue;
        }
        o.value = copy_str(z, vd_replay_get(s, "value"), &o.vlen);
        o.n = int_of(vd_replay_get(s, "n"));
        if (o.kind == VD_OBS_COUNTER && res && res->type == MSGPACK_OBJECT_ARRAY) {
            for (uint32_t w = 0; w < VD_OBS_RESULTS && w < res->via.array.size; w++)
                o.res[w] = int_of(&res->via.array.ptr[w]);
        } else {
            o.res[0] = res && res->type == MSGPACK_OBJECT_NIL ? -1 : int_of(res);
        }
        r->observed[r->nobserved++] = o;
    }
    for (uint32_t i = 0;
         plugins && plugins->type == MSGPACK_OBJECT_MAP && i < plugins->via.map.size; i++) {
        const msgpack_object_kv *kv = &plugins->via.map.ptr[i];
        vd_observed_t o = {.kind = VD_OBS_PLUGIN};
        if (!(o.name = copy_str(z, &kv->key, &o.len))) continue;
        if (repack(z, &kv->val, &o) == 0) r->observed[r->nobserved++] = o;
    }
    return 0;
}

int vd_replay_rec_read(vd_replay_rec_t *r, const char *line, size_t n, long lineno,
                       const vd_replay_input_t *in, msgpack_sbuffer *mp, msgpack_zone *zone,
                       char *err, size_t errlen) {
    memset(r, 0, sizeof *r);
    mp->size = 0;
    msgpack_zone_clear(zone);
    size_t at;
    const char *why;
    if (vd_json_to_mp(mp, line, n, &at, &why) != 0) {
        snprintf(err, errlen, "not JSON at column %zu: %s", at + 1, why);
        return -1;
    }
    msgpack_object *root = msgpack_zone_malloc(zone, sizeof *root);
    size_t off = 0;
    if (!root || msgpack_unpack(mp->data, mp->size, &off, zone, root) != MSGPACK_UNPACK_SUCCESS ||
        root->type != MSGPACK_OBJECT_MAP) {
        snprintf(err, errlen, "not a JSON object");
        return -1;
    }
    const msgpack_object *event = vd_replay_get(root, "event"),
                         *decision = vd_replay_get(root, "decision"),
                         *type = vd_replay_get(root, "type");
    if (type && type->type == MSGPACK_OBJECT_STR && !decision) return 1; /* a manifest */
    if (decision &&
        (!event || event->type != MSGPACK_OBJECT_MAP || decision->type != MSGPACK_OBJECT_MAP)) {
        snprintf(err, errlen, "a record whose event or decision is not a JSON object");
        return -1;
    }
    if (decision) { /* a decision-log record */
        const msgpack_object *pl = vd_replay_get(decision, "pipeline"),
                             *id = vd_replay_get(root, "id");
        if (!pl || pl->type != MSGPACK_OBJECT_STR) {
            snprintf(err, errlen, "a record without decision.pipeline");
            return -1;
        }
        if (pl->via.str.size >= sizeof r->pipeline) {
            snprintf(err, errlen, "a pipeline name longer than %zu bytes", sizeof r->pipeline - 1);
            return -1;
        }
        memcpy(r->pipeline, pl->via.str.ptr, pl->via.str.size);
        if (id && id->type == MSGPACK_OBJECT_STR && id->via.str.size < sizeof r->id)
            memcpy(r->id, id->via.str.ptr, id->via.str.size);
        else
            snprintf(r->id, sizeof r->id, "line:%ld", lineno);
        r->event = event;
        r->decided = decision;
        r->time_ms = vd_replay_time_ms(vd_replay_get(root, "event_time"));
        if (r->time_ms < 0) r->time_ms = vd_replay_time_ms(vd_replay_get(root, "time"));
        if (read_observed(r, vd_replay_get(root, "observed"), zone) != 0) {
            snprintf(err, errlen, "out of memory");
            return -1;
        }
    } else { /* a plain event */
        if (!in->pipeline) {
            snprintf(err, errlen,
                     "not a decision record (no event and decision): plain events "
                     "need --pipeline NAME");
            return -1;
        }
        if (strlen(in->pipeline) >= sizeof r->pipeline) {
            snprintf(err, errlen, "a pipeline name longer than %zu bytes", sizeof r->pipeline - 1);
            return -1;
        }
        snprintf(r->pipeline, sizeof r->pipeline, "%s", in->pipeline);
        snprintf(r->id, sizeof r->id, "line:%ld", lineno);
        r->event = root;
        r->time_ms =
            vd_replay_time_ms(vd_replay_get(root, in->time_field ? in->time_field : "time"));
    }
    if (r->time_ms < 0) {
        snprintf(err, errlen,
                 "no time: a record needs event_time or time, a plain event its "
                 "time field (--time-field, default \"time\"), as RFC 3339 text or "
                 "Unix seconds");
        return -1;
    }
    return 0;
}
