#include "decision_record.h"

#include "base/error.h"
#include "base/hex.h"
#include "decision/decision_json.h"
#include "proto/json_buf.h"
#include "proto/mpbuf.h"
#include "state/campaign.h"
#include "state/list.h"

#include <stdint.h>
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

/* The event with the pipeline's drop and hash fields applied (top-level keys), as JSON: as it
 * came when nothing is masked, else packed masked into scratch first. */
static void event_json(vd_jbuf_t *j, msgpack_sbuffer *scratch, const vd_pipeline_t *pl,
                       const msgpack_object *ev, const char *bytes, size_t len) {
    const vd_pipeline_log_t *lg = &pl->log;
    if (ev->type != MSGPACK_OBJECT_MAP || (!lg->ndrop && !lg->nhash)) {
        if (bytes) {
            vd_json_msgpack(j, bytes, len);
            return;
        }
        scratch->size = 0;
        pack_object(scratch, ev);
        vd_json_msgpack(j, scratch->data, scratch->size);
        return;
    }
    scratch->size = 0;
    uint32_t n = 0;
    for (uint32_t i = 0; i < ev->via.map.size; i++) {
        const msgpack_object *k = &ev->via.map.ptr[i].key;
        n += !(is_str(k) && listed(lg->drop, lg->ndrop, k->via.str.ptr, k->via.str.size));
    }
    vd_mp_map(scratch, n);
    for (uint32_t i = 0; i < ev->via.map.size; i++) {
        const msgpack_object_kv *kv = &ev->via.map.ptr[i];
        int named = is_str(&kv->key);
        const char *k = kv->key.via.str.ptr;
        size_t klen = kv->key.via.str.size;
        if (named && listed(lg->drop, lg->ndrop, k, klen)) continue;
        pack_object(scratch, &kv->key);
        if (named && listed(lg->hash, lg->nhash, k, klen))
            pack_hashed(scratch, lg->salt, &kv->val);
        else
            pack_object(scratch, &kv->val);
    }
    vd_json_msgpack(j, scratch->data, scratch->size);
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
static void time_json(vd_jbuf_t *j, int64_t ms) {
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
    vd_json_str(j, text, 24);
}

/* What a binding kept of an observation: JSON text as it is, msgpack converted. */
static void packed_json(vd_jbuf_t *j, const vd_observed_t *o) {
    if (o->json)
        vd_json_raw(j, o->packed, o->plen);
    else
        vd_json_msgpack(j, o->packed, o->plen);
}

/* {"op":"campaign","key":...,["source":...,]"result":view or null} */
static void campaign_json(vd_jbuf_t *j, const vd_observed_t *o) {
    VD_JSON_LIT(j, "{\"op\":\"campaign\",\"key\":");
    vd_json_str(j, o->name, o->len);
    if (o->value) {
        VD_JSON_LIT(j, ",\"source\":");
        vd_json_str(j, o->value, o->vlen);
    }
    VD_JSON_LIT(j, ",\"result\":");
    if (o->plen)
        packed_json(j, o);
    else
        VD_JSON_LIT(j, "null");
    VD_JSON_LIT(j, "}");
}

/* observed: {"state": [{op, key, [value|n], result}], "plugins": {stage: outputs}}. An entry
 * is written into room reserved once: a signup line has five or more of them. */
static void state_json(vd_jbuf_t *j, const vd_observed_t *o) {
    if (o->kind == VD_OBS_CAMPAIGN) {
        campaign_json(j, o);
        return;
    }
    int packed = o->kind == VD_OBS_PROFILE || o->kind == VD_OBS_ANOMALY; /* by the binding */
    size_t text = packed && o->json ? o->plen : 0;
    if (o->len > SIZE_MAX / 32 || o->vlen > SIZE_MAX / 32 ||
        text > SIZE_MAX / 4) { /* no sum wraps */
        j->failed = 1;
        return;
    }
    /* the literals and an op name (under 60 bytes), four whole numbers (24 each), two strings
     * escaped, the text */
    char *p = vd_json_room(j, 192 + 6 * (o->len + o->vlen) + text);
    if (!p) return;
    size_t hl;
    const char *head = vd_obs_json_head(o->kind, &hl);
    p = vd_json_put_raw(p, head, hl);
    p = vd_json_put_str(p, o->name, o->len);
    if (o->kind == VD_OBS_COUNTER) {
        p = VD_JSON_PUT_LIT(p, ",\"n\":");
        p = vd_json_put_int(p, o->n);
    } else if (o->kind == VD_OBS_DISTINCT && o->value) {
        p = VD_JSON_PUT_LIT(p, ",\"value\":");
        p = vd_json_put_str(p, o->value, o->vlen);
    }
    p = VD_JSON_PUT_LIT(p, ",\"result\":");
    if (packed && !o->json) { /* msgpack (an explained decision): converted */
        vd_json_end(j, p);
        packed_json(j, o);
        VD_JSON_LIT(j, "}");
        return;
    }
    if (packed) {
        p = vd_json_put_raw(p, o->packed, o->plen);
    } else if (o->kind == VD_OBS_COUNTER) {
        for (int w = 0; w < VD_OBS_RESULTS; w++) {
            *p++ = w ? ',' : '[';
            p = vd_json_put_int(p, o->res[w]);
        }
        *p++ = ']';
    } else if (o->kind == VD_OBS_LABELED && o->res[0] < 0) {
        p = VD_JSON_PUT_LIT(p, "null");
    } else {
        p = vd_json_put_int(p, o->res[0]);
    }
    *p++ = '}';
    vd_json_end(j, p);
}

static void observed_json(vd_jbuf_t *j, const vd_decision_t *d) {
    int first = 1;
    VD_JSON_LIT(j, "{\"state\":[");
    for (uint32_t i = 0; i < d->observed.len; i++) {
        const vd_observed_t *o = &VD_VEC_AT(d->observed, vd_observed_t, i);
        if (o->kind == VD_OBS_PLUGIN) continue;
        if (!first) VD_JSON_LIT(j, ",");
        first = 0;
        state_json(j, o);
    }
    VD_JSON_LIT(j, "],\"plugins\":{");
    first = 1;
    for (uint32_t i = 0; i < d->observed.len; i++) {
        const vd_observed_t *o = &VD_VEC_AT(d->observed, vd_observed_t, i);
        if (o->kind != VD_OBS_PLUGIN) continue;
        if (!first) VD_JSON_LIT(j, ",");
        first = 0;
        vd_json_str(j, o->name, o->len);
        VD_JSON_LIT(j, ":");
        packed_json(j, o);
    }
    VD_JSON_LIT(j, "}}");
}

static int record_json(vd_jbuf_t j, msgpack_sbuffer *scratch, const vd_record_in_t *in) {
    const vd_pipeline_log_t *lg = &in->pl->log;
    const msgpack_object *et = event_time(in->event, lg->time_field);
    size_t tlen = strlen(lg->time_field);
    if (listed(lg->drop, lg->ndrop, lg->time_field, tlen) ||
        listed(lg->hash, lg->nhash, lg->time_field, tlen))
        et = NULL; /* a masked field is not written again beside the event */
    VD_JSON_LIT(&j, "{\"id\":");
    vd_json_cstr(&j, in->meta->id);
    VD_JSON_LIT(&j, ",\"time\":");
    time_json(&j, in->wall_ms);
    VD_JSON_LIT(&j, ",\"lists_generation\":"); /* with decision.policy: the manifest */
    vd_json_int(&j, (int64_t)vd_lists_generation());
    if (et) {
        VD_JSON_LIT(&j, ",\"event_time\":");
        scratch->size = 0;
        pack_object(scratch, et);
        vd_json_msgpack(&j, scratch->data, scratch->size);
    }
    VD_JSON_LIT(&j, ",\"event\":");
    event_json(&j, scratch, in->pl, in->event, in->event_bytes, in->event_len);
    VD_JSON_LIT(&j, ",\"decision\":");
    vd_decision_meta_t meta = *in->meta;
    meta.id = NULL; /* said once, above */
    vd_decision_json(&j, in->d, &meta);
    VD_JSON_LIT(&j, ",\"observed\":");
    observed_json(&j, in->d);
    VD_JSON_LIT(&j, "}\n");
    return j.failed ? VD_ENOMEM : 0;
}

int vd_decision_record_json(msgpack_sbuffer *sb, msgpack_sbuffer *scratch,
                            const vd_record_in_t *in) {
    sb->size = 0;
    return record_json((vd_jbuf_t){sb, 0, 0}, scratch, in);
}

size_t vd_decision_record_json_at(char *at, size_t most, msgpack_sbuffer *scratch,
                                  const vd_record_in_t *in) {
    msgpack_sbuffer view;
    return record_json(vd_json_fixed(&view, at, most), scratch, in) == 0 ? view.size : 0;
}

void vd_report_campaign_json(vd_jbuf_t *j, const vd_report_campaign_t *c) {
    char id[16];
    VD_JSON_LIT(j, "{\"kind\":");
    vd_json_cstr(j, vd_campaign_kind_names[c->kind]);
    VD_JSON_LIT(j, ",\"id\":");
    vd_json_str(j, id, (size_t)(vd_hex64(id, c->id) - id));
    if (!c->found) {
        VD_JSON_LIT(j, ",\"found\":false}");
        return;
    }
    VD_JSON_LIT(j, ",\"found\":true,\"size\":");
    vd_json_int(j, (int64_t)c->size);
    VD_JSON_LIT(j, ",\"bad\":");
    vd_json_double(j, c->bad);
    VD_JSON_LIT(j, ",\"good\":");
    vd_json_double(j, c->good);
    VD_JSON_LIT(j, ",\"reporters\":");
    vd_json_int(j, (int64_t)c->reporters);
    VD_JSON_LIT(j, "}");
}

int vd_report_record_json(msgpack_sbuffer *sb, msgpack_sbuffer *scratch,
                          const vd_report_record_in_t *in) {
    sb->size = 0;
    vd_jbuf_t j = {sb, 0};
    VD_JSON_LIT(&j, "{\"type\":\"report\",\"id\":");
    vd_json_cstr(&j, in->id);
    VD_JSON_LIT(&j, ",\"time\":");
    time_json(&j, in->wall_ms);
    VD_JSON_LIT(&j, ",\"pipeline\":");
    vd_json_cstr(&j, in->pl->name);
    if (in->decision_id) {
        VD_JSON_LIT(&j, ",\"decision_id\":");
        vd_json_str(&j, in->decision_id, in->decision_id_len);
    } else if (in->event) {
        VD_JSON_LIT(&j, ",\"event\":");
        event_json(&j, scratch, in->pl, in->event, NULL, 0);
    }
    VD_JSON_LIT(&j, ",\"label\":");
    vd_json_cstr(&j, in->bad ? "bad" : "good");
    VD_JSON_LIT(&j, ",\"reporter\":");
    if (in->reporter)
        vd_json_str(&j, in->reporter, in->reporter_len);
    else
        VD_JSON_LIT(&j, "null");
    VD_JSON_LIT(&j, ",\"weight\":");
    vd_json_double(&j, in->weight);
    VD_JSON_LIT(&j, ",\"outcome\":");
    vd_json_cstr(&j, in->outcome);
    VD_JSON_LIT(&j, ",\"campaigns\":[");
    for (int i = 0; i < in->ncampaigns; i++) {
        if (i) VD_JSON_LIT(&j, ",");
        vd_report_campaign_json(&j, &in->campaigns[i]);
    }
    VD_JSON_LIT(&j, "]}\n");
    return j.failed ? VD_ENOMEM : 0;
}
