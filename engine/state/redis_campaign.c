#include "redis_campaign.h"

#include "base/error.h"
#include "base/hex.h"
#include "campaign_count.h"
#include "campaign_op.h"

#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <xxhash.h>

static void arg(vd_redis_campaign_cmd_t *cmd, const char *s, size_t len) {
    cmd->argv[cmd->argc] = s;
    cmd->lens[cmd->argc++] = len;
}

static void arg_str(vd_redis_campaign_cmd_t *cmd, const char *s) {
    arg(cmd, s, strlen(s));
}

static void arg_hex(vd_redis_campaign_cmd_t *cmd, char out[17], uint64_t v) {
    vd_hex64(out, v);
    out[16] = '\0';
    arg(cmd, out, 16);
}

static void arg_int(vd_redis_campaign_cmd_t *cmd, char *out, size_t cap, int64_t v) {
    arg(cmd, out, (size_t)snprintf(out, cap, "%lld", (long long)v));
}

size_t vd_redis_refs_key(const char *prefix, const char *id, size_t len, char *out, size_t cap) {
    int n = snprintf(out, cap, "%sr:{%.*s}", prefix, (int)len, id);
    return n > 0 && (size_t)n < cap && len <= 1024 ? (size_t)n : 0;
}

static void put_u64(unsigned char *p, uint64_t v) {
    for (int i = 0; i < 8; i++)
        p[i] = (unsigned char)(v >> (8 * i));
}

static uint64_t get_u64(const unsigned char *p) {
    uint64_t v = 0;
    for (int i = 0; i < 8; i++)
        v |= (uint64_t)p[i] << (8 * i);
    return v;
}

size_t vd_redis_refs_encode(const vd_campaign_refs_t *refs, unsigned char *out) {
    put_u64(out, refs->pipeline);
    size_t len = 8;
    for (int i = 0; i < refs->n && i < VD_CAMPAIGN_REFS; i++, len += 9) {
        out[len] = refs->kinds[i];
        put_u64(out + len + 1, refs->ids[i]);
    }
    return len;
}

/* Bytes vd_redis_refs_encode wrote: 0, or -1 for anything else. */
static int refs_decode(const unsigned char *p, size_t len, vd_campaign_refs_t *refs) {
    if (len < 8 || (len - 8) % 9 || (len - 8) / 9 > VD_CAMPAIGN_REFS) return -1;
    refs->pipeline = get_u64(p);
    refs->n = (int)((len - 8) / 9);
    for (int i = 0; i < refs->n; i++) {
        refs->kinds[i] = p[8 + 9 * i];
        refs->ids[i] = get_u64(p + 8 + 9 * i + 1);
        if (refs->kinds[i] >= VD_CAMPAIGN_KINDS) return -1;
    }
    return 0;
}

/* ---- the code, as a script and as a function library ---- */

static char *eval_text, *library, function[40];
static size_t eval_len, library_len;
static pthread_once_t made = PTHREAD_ONCE_INIT;

static void make_code(void) {
    static const char eval_tail[] = "\nreturn campaign(KEYS, ARGV)\n";
    snprintf(
        function, sizeof function, "verdict_campaign_%016llx",
        (unsigned long long)XXH3_64bits(vd_redis_campaign_script, vd_redis_campaign_script_len));
    char head[80], tail[120];
    int hl = snprintf(head, sizeof head, "#!lua name=%s\n", function);
    int tl = snprintf(tail, sizeof tail, "\nredis.register_function('%s', campaign)\n", function);
    eval_text = malloc(vd_redis_campaign_script_len + sizeof eval_tail);
    library = malloc((size_t)hl + vd_redis_campaign_script_len + (size_t)tl + 1);
    if (!eval_text || !library) abort(); /* at the first connection: nothing to fall back to */
    memcpy(eval_text, vd_redis_campaign_script, vd_redis_campaign_script_len);
    memcpy(eval_text + vd_redis_campaign_script_len, eval_tail, sizeof eval_tail);
    eval_len = vd_redis_campaign_script_len + sizeof eval_tail - 1;
    memcpy(library, head, (size_t)hl);
    memcpy(library + hl, vd_redis_campaign_script, vd_redis_campaign_script_len);
    memcpy(library + hl + vd_redis_campaign_script_len, tail, (size_t)tl + 1);
    library_len = (size_t)hl + vd_redis_campaign_script_len + (size_t)tl;
}

const char *vd_redis_campaign_eval(size_t *len) {
    pthread_once(&made, make_code);
    *len = eval_len;
    return eval_text;
}

const char *vd_redis_campaign_library(size_t *len) {
    pthread_once(&made, make_code);
    *len = library_len;
    return library;
}

/* ---- operations ---- */

int vd_redis_campaign_cmd(vd_redis_campaign_cmd_t *cmd, vd_state_op_t *op, const char *prefix,
                          vd_redis_campaign_call_t how, const char *sha) {
    vd_campaign_ask_t *a = vd_campaign_op_ask(op);
    if (a->what == VD_CAMPAIGN_ASK_REFS) { /* a plain GET */
        size_t klen = vd_redis_refs_key(prefix, op->key, op->klen, cmd->key, sizeof cmd->key);
        if (!klen) {
            snprintf(op->why, sizeof op->why, "decision id too long for a Redis key");
            return -1;
        }
        cmd->argc = 0;
        arg_str(cmd, "GET");
        arg(cmd, cmd->key, klen);
        return 0;
    }
    vd_campaign_opts_t o;
    vd_campaign_op_opts(op, &o);
    vd_campaign_kind_t kind = a->what == VD_CAMPAIGN_ASK_TEXT     ? VD_CAMPAIGN_TEXT
                              : a->what == VD_CAMPAIGN_ASK_FIELDS ? VD_CAMPAIGN_FIELDS
                                                                  : a->kind;
    int64_t window = 0, ttl = 0;
    int lookup = a->what == VD_CAMPAIGN_ASK_TEXT || a->what == VD_CAMPAIGN_ASK_FIELDS;
    if (lookup && vd_campaign_limits(kind, &o, &window, &ttl) != 0) {
        snprintf(op->why, sizeof op->why, "campaign window or ttl out of range");
        return -1;
    }
    uint64_t id = a->key, bands[VD_SKETCH_BANDS];
    if (a->what == VD_CAMPAIGN_ASK_TEXT) vd_campaign_text_names(&a->sketch, &o, &id, bands);
    if (a->what == VD_CAMPAIGN_ASK_FIELDS) id = vd_campaign_fields_id(a->key, &o, window);
    /* The one key the script is routed by (Cluster): the hash tag every key it touches has. */
    int klen = kind == VD_CAMPAIGN_TEXT ? snprintf(cmd->key, sizeof cmd->key, "%sm:{t}", prefix)
                                        : snprintf(cmd->key, sizeof cmd->key, "%sm:{f:%016llx}",
                                                   prefix, (unsigned long long)id);
    if (klen < 0 || (size_t)klen >= sizeof cmd->key) {
        snprintf(op->why, sizeof op->why, "Redis key prefix too long for campaigns");
        return -1;
    }
    cmd->argc = 0;
    size_t len;
    const char *text = vd_redis_campaign_eval(&len);
    if (how == VD_REDIS_CAMPAIGN_FCALL) {
        arg_str(cmd, "FCALL");
        arg_str(cmd, function);
    } else if (how == VD_REDIS_CAMPAIGN_EVALSHA) {
        arg_str(cmd, "EVALSHA");
        arg_str(cmd, sha);
    } else {
        arg_str(cmd, "EVAL");
        arg(cmd, text, len);
    }
    arg_str(cmd, "1");
    arg(cmd, cmd->key, (size_t)klen);
    /* text, fields, report, (refs: a GET above), an operator's get and drop */
    cmd->what[0] = "tfr?gx"[a->what];
    cmd->what[1] = '\0';
    arg(cmd, cmd->what, 1);
    arg_str(cmd, prefix);
    arg_int(cmd, cmd->now, sizeof cmd->now, op->now);
    arg_hex(cmd, cmd->id, id);
    cmd->kind[0] = kind == VD_CAMPAIGN_TEXT ? 't' : 'f';
    cmd->kind[1] = '\0';
    arg(cmd, cmd->kind, 1);
    arg_int(cmd, cmd->window, sizeof cmd->window, window);
    arg_int(cmd, cmd->ttl, sizeof cmd->ttl, ttl);
    arg_str(cmd, a->look_only ? "1" : "0");
    if (a->what == VD_CAMPAIGN_ASK_GET || a->what == VD_CAMPAIGN_ASK_DROP) return 0;
    if (a->what == VD_CAMPAIGN_ASK_REPORT) {
        arg_str(cmd, a->bad ? "1" : "0");
        arg(cmd, cmd->num[0],
            (size_t)snprintf(cmd->num[0], sizeof cmd->num[0], "%.17g", a->weight));
        arg_int(cmd, cmd->num[1], sizeof cmd->num[1],
                op->key ? vd_campaign_reporter_bit(op->key, op->klen) : -1);
        return 0;
    }
    if (o.source) { /* the register and rank it sets: Redis keeps the registers */
        uint32_t idx;
        uint8_t rank;
        vd_campaign_hll_point(XXH3_64bits(o.source, o.source_len), &idx, &rank);
        arg(cmd, cmd->source,
            (size_t)snprintf(cmd->source, sizeof cmd->source, "%u:%u", idx, (unsigned)rank));
    } else {
        arg(cmd, "", 0);
    }
    if (a->what == VD_CAMPAIGN_ASK_TEXT) {
        arg(cmd, (const char *)a->sketch.h, sizeof a->sketch.h);
        for (int b = 0; b < VD_SKETCH_BANDS; b++)
            arg_hex(cmd, cmd->bands[b], bands[b]);
    }
    return 0;
}

/* An element of the reply as a number: an integer, or a string holding one. */
static int number(const redisReply *r, double *out) {
    if (r->type == REDIS_REPLY_INTEGER) {
        *out = (double)r->integer;
        return 0;
    }
    if (r->type != REDIS_REPLY_STRING) return -1;
    char *end;
    *out = strtod(r->str, &end);
    return end == r->str ? -1 : 0;
}

static uint32_t le32(const unsigned char *p) {
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

/* The items a ring of buckets (redis_campaign.lua, ring_add) holds within its window at now
 * (or, for an older now, as of its newest bucket): the buckets of the last VD_CAMPAIGN_SLOTS
 * time numbers, as campaign_count.h counts them. */
static uint64_t ring_sum(const unsigned char *p, int64_t width, int64_t now) {
    if (width <= 0) return 0;
    uint32_t e_ref = (uint32_t)(now / width);
    for (int i = 0; i < VD_CAMPAIGN_SLOTS; i++)
        if (le32(p + 8 * i + 4) && le32(p + 8 * i) > e_ref) e_ref = le32(p + 8 * i);
    uint64_t sum = 0;
    for (int i = 0; i < VD_CAMPAIGN_SLOTS; i++, p += 8)
        if ((uint32_t)(e_ref - le32(p)) < VD_CAMPAIGN_SLOTS) sum += le32(p + 4);
    return sum;
}

/* A campaign as the script keeps it (redis_campaign.lua: HEAD, the two rings, the sources'
 * registers, a text's sketch) into v; 0, or -1 when it is not one. */
enum {
    FIRST,
    LAST,
    EXPIRES,
    WINDOW,
    TTL,
    SIZE,
    BAD,
    GOOD,
    REP_LO,
    REP_HI,
    GEN,
    MEMBERS,
    KEPT,
    HEAD
};
#define RING_BYTES (8 * VD_CAMPAIGN_SLOTS)
#define BLOB_BYTES (8 * HEAD + 2 * RING_BYTES + 2 * VD_CAMPAIGN_HLL)

static int read_blob(const redisReply *b, int64_t now, vd_campaign_view_t *v) {
    if (b->type != REDIS_REPLY_STRING || b->len < BLOB_BYTES) return -1;
    const unsigned char *p = (const unsigned char *)b->str;
    double x[HEAD];
    for (int i = 0; i < HEAD; i++) {
        uint64_t bits = (uint64_t)le32(p + 8 * i) | (uint64_t)le32(p + 8 * i + 4) << 32;
        memcpy(&x[i], &bits, sizeof x[i]);
        if (!isfinite(x[i]) || x[i] < 0 || x[i] > 9.2e18) return -1;
    }
    if (x[REP_LO] >= 4294967296.0 || x[REP_HI] >= 4294967296.0 || x[GEN] >= 4294967296.0)
        return -1; /* 32-bit halves and generations, or not a campaign */
    p += 8 * HEAD;
    v->first_seen = (int64_t)x[FIRST];
    v->last_seen = (int64_t)x[LAST];
    v->window = (int64_t)x[WINDOW];
    v->size = (uint64_t)x[SIZE];
    v->bad = x[BAD];
    v->good = x[GOOD];
    v->reporters =
        vd_campaign_reporters((uint64_t)(uint32_t)x[REP_LO] | (uint64_t)(uint32_t)x[REP_HI] << 32);
    v->recent = ring_sum(p, v->window / VD_CAMPAIGN_SLOTS, now);
    v->growth_1h = ring_sum(p + RING_BYTES, 3600 / VD_CAMPAIGN_SLOTS, now);
    vd_campaign_hll_t hll = {.gen = (uint32_t)(uint64_t)x[GEN]};
    memcpy(hll.regs, p + 2 * RING_BYTES, sizeof hll.regs);
    for (size_t i = 0; i < sizeof hll.regs; i++) /* a rank no hash gives: not a campaign */
        if (hll.regs[i / VD_CAMPAIGN_HLL][i % VD_CAMPAIGN_HLL] > VD_CAMPAIGN_RANK_MAX) return -1;
    v->sources = vd_campaign_hll_count(&hll, v->window / 2, now);
    return 0;
}

int vd_redis_campaign_read(vd_state_op_t *op, const redisReply *rep) {
    vd_campaign_ask_t *a = vd_campaign_op_ask(op);
    memset(&a->view, 0, sizeof a->view);
    a->matched = a->created = 0;
    if (a->what == VD_CAMPAIGN_ASK_REFS) {
        memset(&a->refs, 0, sizeof a->refs);
        a->rc = VD_ENOTFOUND;
        if (rep->type == REDIS_REPLY_NIL) return 0;
        if (rep->type != REDIS_REPLY_STRING) return -1;
        if (refs_decode((const unsigned char *)rep->str, rep->len, &a->refs) == 0) a->rc = 0;
        return 0; /* bytes of another kind under the key: as good as none */
    }
    if (rep->type != REDIS_REPLY_ARRAY || rep->elements < 1) return -1;
    double found, created, agree, matched;
    if (number(rep->element[0], &found) != 0) return -1;
    if (found == 0) {
        a->rc = VD_ENOTFOUND;
        return 0;
    }
    if (rep->elements != 6 || rep->element[1]->type != REDIS_REPLY_STRING ||
        number(rep->element[2], &created) || number(rep->element[3], &agree) ||
        number(rep->element[4], &matched))
        return -1;
    vd_campaign_view_t *v = &a->view;
    if (read_blob(rep->element[5], op->now, v) != 0) return -1;
    v->id = strtoull(rep->element[1]->str, NULL, 16);
    v->kind = a->what == VD_CAMPAIGN_ASK_TEXT     ? VD_CAMPAIGN_TEXT
              : a->what == VD_CAMPAIGN_ASK_FIELDS ? VD_CAMPAIGN_FIELDS
                                                  : a->kind;
    v->created = created != 0;
    v->agree = agree >= 0 && agree <= VD_SKETCH_HASHES ? (int)agree : 0;
    a->created = v->created;
    a->matched = matched != 0;
    a->rc = 0;
    return 0;
}
