#include "decision_record.h"

#include "proto/mpbuf.h"
#include "state/list.h"

#include <stdio.h>
#include <string.h>
#include <time.h>
#include <xxhash.h>

static int listed(char *const *names, size_t n, const char *s, size_t len) {
    for (size_t i = 0; i < n; i++)
        if (strlen(names[i]) == len && memcmp(names[i], s, len) == 0) return 1;
    return 0;
}

static int is_str(const msgpack_object *o) {
    return o->type == MSGPACK_OBJECT_STR;
}

/* A field to hash becomes "h:" and 32 hex digits of XXH3-128 over the salt and its value's
 * msgpack bytes: equal values stay equal (a replay can still count by them), the value is not
 * kept. A pseudonym, not encryption: a value that can be guessed can be confirmed. */
static void pack_hashed(msgpack_sbuffer *sb, const char *salt, const msgpack_object *v) {
    /* The salt, then the value, both as msgpack, packed past the record's end to be hashed
     * there and taken back: no buffer of its own. */
    size_t at = sb->size;
    msgpack_packer pk;
    msgpack_packer_init(&pk, sb, msgpack_sbuffer_write);
    msgpack_pack_str_with_body(&pk, salt, strlen(salt));
    msgpack_pack_object(&pk, *v);
    XXH128_hash_t h = XXH3_128bits(sb->data ? sb->data + at : "", sb->size - at);
    sb->size = at;
    char hex[40];
    snprintf(hex, sizeof hex, "h:%016llx%016llx", (unsigned long long)h.high64,
             (unsigned long long)h.low64);
    vd_mp_str_valid(sb, hex, strlen(hex));
}

static void pack_object(msgpack_sbuffer *sb, const msgpack_object *o) {
    msgpack_packer pk;
    msgpack_packer_init(&pk, sb, msgpack_sbuffer_write);
    msgpack_pack_object(&pk, *o);
}

/* The event with the pipeline's drop and hash fields applied (top-level keys). */
static void pack_event(msgpack_sbuffer *sb, const vd_record_in_t *in) {
    const msgpack_object *ev = in->event;
    const vd_pipeline_log_t *lg = &in->pl->log;
    if (ev->type != MSGPACK_OBJECT_MAP || (!lg->ndrop && !lg->nhash)) {
        if (in->event_bytes)
            vd_mp_raw(sb, in->event_bytes, in->event_len);
        else
            pack_object(sb, ev);
        return;
    }
    uint32_t n = 0;
    for (uint32_t i = 0; i < ev->via.map.size; i++) {
        const msgpack_object *k = &ev->via.map.ptr[i].key;
        n += !(is_str(k) && listed(lg->drop, lg->ndrop, k->via.str.ptr, k->via.str.size));
    }
    vd_mp_map(sb, n);
    for (uint32_t i = 0; i < ev->via.map.size; i++) {
        const msgpack_object_kv *kv = &ev->via.map.ptr[i];
        int named = is_str(&kv->key);
        const char *k = kv->key.via.str.ptr;
        size_t klen = kv->key.via.str.size;
        if (named && listed(lg->drop, lg->ndrop, k, klen)) continue;
        pack_object(sb, &kv->key);
        if (named && listed(lg->hash, lg->nhash, k, klen))
            pack_hashed(sb, lg->salt, &kv->val);
        else
            pack_object(sb, &kv->val);
    }
}

static const msgpack_object *event_time(const msgpack_object *ev, const char *field) {
    if (ev->type != MSGPACK_OBJECT_MAP) return NULL;
    size_t len = strlen(field);
    for (uint32_t i = 0; i < ev->via.map.size; i++) {
        const msgpack_object_kv *kv = &ev->via.map.ptr[i];
        if (is_str(&kv->key) && kv->key.via.str.size == len &&
            memcmp(kv->key.via.str.ptr, field, len) == 0)
            return &kv->val;
    }
    return NULL;
}

/* The decision's time, as "2026-11-30T06:09:33.767Z": the date and second are formatted once
 * a second per thread, the milliseconds each time. */
static void pack_time(msgpack_sbuffer *sb, int64_t ms) {
    static _Thread_local int64_t second = -1;
    static _Thread_local char text[32] = "";
    int64_t s = ms / 1000;
    if (s != second) {
        time_t t = (time_t)s;
        struct tm tm;
        gmtime_r(&t, &tm);
        strftime(text, sizeof text, "%Y-%m-%dT%H:%M:%S.000Z", &tm);
        second = s;
    }
    int frac = (int)(ms % 1000);
    text[20] = (char)('0' + frac / 100);
    text[21] = (char)('0' + frac / 10 % 10);
    text[22] = (char)('0' + frac % 10);
    vd_mp_str_valid(sb, text, 24);
}

static const char *const obs_names[] = {
    [VD_OBS_COUNTER] = "counter", [VD_OBS_DISTINCT] = "distinct", [VD_OBS_LABELED] = "labeled"};

/* observed: {"state": [{op, key, [value|n], result}], "plugins": {stage: outputs}} */
static void pack_observed(msgpack_sbuffer *sb, const vd_decision_t *d) {
    uint32_t nstate = 0, nplugins = 0;
    for (uint32_t i = 0; i < d->observed.len; i++) {
        const vd_observed_t *o = &VD_VEC_AT(d->observed, vd_observed_t, i);
        if (o->kind == VD_OBS_PLUGIN)
            nplugins++;
        else
            nstate++;
    }
    vd_mp_map(sb, 2);
    VD_MP_LIT(sb, "state");
    vd_mp_array(sb, nstate);
    for (uint32_t i = 0; i < d->observed.len; i++) {
        const vd_observed_t *o = &VD_VEC_AT(d->observed, vd_observed_t, i);
        if (o->kind == VD_OBS_PLUGIN) continue;
        int extra = o->kind == VD_OBS_COUNTER || (o->kind == VD_OBS_DISTINCT && o->value);
        vd_mp_map(sb, 3 + (uint32_t)extra);
        VD_MP_LIT(sb, "op");
        vd_mp_cstr(sb, obs_names[o->kind]);
        VD_MP_LIT(sb, "key");
        vd_mp_str(sb, o->name, o->len);
        if (o->kind == VD_OBS_COUNTER) {
            VD_MP_LIT(sb, "n");
            vd_mp_int(sb, o->n);
        } else if (extra) {
            VD_MP_LIT(sb, "value");
            vd_mp_str(sb, o->value, o->vlen);
        }
        VD_MP_LIT(sb, "result");
        if (o->kind == VD_OBS_COUNTER) {
            vd_mp_array(sb, VD_OBS_RESULTS);
            for (int w = 0; w < VD_OBS_RESULTS; w++)
                vd_mp_int(sb, o->res[w]);
        } else if (o->kind == VD_OBS_LABELED && o->res[0] < 0) {
            vd_mp_nil(sb);
        } else {
            vd_mp_int(sb, o->res[0]);
        }
    }
    VD_MP_LIT(sb, "plugins");
    vd_mp_map(sb, nplugins);
    for (uint32_t i = 0; i < d->observed.len; i++) {
        const vd_observed_t *o = &VD_VEC_AT(d->observed, vd_observed_t, i);
        if (o->kind != VD_OBS_PLUGIN) continue;
        vd_mp_str(sb, o->name, o->len);
        vd_mp_raw(sb, o->packed, o->plen);
    }
}

/* The reply's result map without its first entry, the id (said once, at the top of the record):
 * vd_decision_pack writes a fixmap whose first key is "id" and value a 26-character string. */
static int copy_without_id(msgpack_sbuffer *sb, const char *reply, size_t len) {
    static const char id_head[] = "\xa2id\xba";
    size_t skip = 1 + 4 + 26;
    const unsigned char *r = (const unsigned char *)reply;
    if (len <= skip || (r[0] & 0xf0) != 0x80 || (r[0] & 0x0f) == 0 ||
        memcmp(reply + 1, id_head, 4) != 0)
        return 0;
    unsigned char head = (unsigned char)(r[0] - 1);
    vd_mp_raw(sb, &head, 1);
    vd_mp_raw(sb, reply + skip, len - skip);
    return 1;
}

void vd_decision_record_pack(msgpack_sbuffer *sb, const vd_record_in_t *in) {
    const vd_pipeline_log_t *lg = &in->pl->log;
    const msgpack_object *et = event_time(in->event, lg->time_field);
    size_t tlen = strlen(lg->time_field);
    if (listed(lg->drop, lg->ndrop, lg->time_field, tlen) ||
        listed(lg->hash, lg->nhash, lg->time_field, tlen))
        et = NULL; /* a masked field is not written again beside the event */
    sb->size = 0;
    vd_mp_map(sb, 6 + (et != NULL));
    VD_MP_LIT(sb, "id");
    vd_mp_cstr(sb, in->meta->id);
    VD_MP_LIT(sb, "time");
    pack_time(sb, in->wall_ms);
    VD_MP_LIT(sb, "lists_generation"); /* with decision.policy: the manifest that describes it */
    vd_mp_int(sb, (int64_t)vd_lists_generation());
    if (et) {
        VD_MP_LIT(sb, "event_time");
        pack_object(sb, et);
    }
    VD_MP_LIT(sb, "event");
    pack_event(sb, in);
    VD_MP_LIT(sb, "decision"); /* the reply's bytes when there are some: packed once */
    if (!in->reply || !copy_without_id(sb, in->reply, in->reply_len)) {
        vd_decision_meta_t meta = *in->meta;
        meta.id = NULL; /* said once, above */
        vd_decision_pack(sb, in->d, &meta);
    }
    VD_MP_LIT(sb, "observed");
    pack_observed(sb, in->d);
}
