#include "redis.h"

#include "base/clock.h"

#include "base/log.h"
#include "redis_campaign.h"
#include "redis_send.h"
#include "redis_uv.h"

#include <errno.h>
#include <hiredis/async.h>
#include <hiredis/hiredis.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define MAX_IN_FLIGHT      10000
#define CONNECT_TIMEOUT_MS 1000
#define BACKOFF_MIN_MS     100
#define BACKOFF_MAX_MS     5000
#define TIMEOUTS_TO_DROP   3 /* in a row: the server is hung, not just slow once */

/* Counters: one hash per counter, a field "<window>:<sixth>" per bucket, as the embedded store
 * keeps them. An addition is one MULTI (atomic, one key): HINCRBY of the current bucket of
 * each window, HMGET of the six buckets of each window, EXPIRE (the longest window and a
 * sixth), HLEN. Buckets that left their window are only dropped when HLEN shows more than a
 * working set, by this script (rare: a key must be used across many sixths). */
static const char cleanup_script[] =
    "local now = tonumber(ARGV[1])\n"
    "for _, f in ipairs(redis.call('HKEYS', KEYS[1])) do\n"
    "  local w, s = string.match(f, '^(%d+):(-?%d+)$')\n"
    "  if w and tonumber(s) <= math.floor(now / (tonumber(w) / 6)) - 6 then\n"
    "    redis.call('HDEL', KEYS[1], f)\n"
    "  end\n"
    "end\n"
    "return 0\n";

#define WORKING_SET (7 * VD_WINDOWS) /* buckets a counter holds when used steadily */

enum { DOWN, CONNECTING, UP };

typedef struct slot {
    vd_state_op_t *op; /* NULL once it timed out: the reply is then dropped */
    struct vd_redis *r;
    int64_t deadline_ns;
    int request_bound; /* the deadline is the request's, shorter than the Redis timeout */
    struct slot *prev, *next;
} slot_t;

struct vd_redis {
    uv_loop_t *loop;
    vd_redis_config_t cfg;
    int worker;
    char host[256];
    int port; /* 0: host is a Unix socket path */
    redisAsyncContext *ac;
    int state, backoff_ms, failures_logged, shutting_down;
    uv_timer_t retry_timer, op_timer;
    slot_t *head, *tail; /* sent and waiting, earliest deadline first */
    size_t in_flight;
    int timeouts_in_a_row;
    /* How this connection's server knows the campaign code: as a function (Redis 7), as a
     * script by its SHA1, or not yet (sent whole with EVAL meanwhile). */
    int campaign_fn;
    char campaign_sha[41];
    vd_redis_stats_t stats;
};

static void on_retry(uv_timer_t *t);
static void on_op_timer(uv_timer_t *t);

static int parse_address(const char *a, char *host, size_t cap, int *port) {
    if (strncmp(a, "unix:", 5) == 0) a += 5;
    if (strncmp(a, "redis://", 8) == 0) a += 8;
    if (a[0] == '/') {
        *port = 0;
        return snprintf(host, cap, "%s", a) < (int)cap ? 0 : -1;
    }
    const char *colon = strrchr(a, ':');
    if (!colon || colon == a || (size_t)(colon - a) >= cap) return -1;
    char *end;
    long p = strtol(colon + 1, &end, 10);
    if (*end || p < 1 || p > 65535) return -1;
    memcpy(host, a, (size_t)(colon - a));
    host[colon - a] = '\0';
    *port = (int)p;
    return 0;
}

int vd_redis_read_auth(const char *path, const char **user, const char **password, char *err,
                       size_t errlen) {
    static char line[512];
    FILE *f = fopen(path, "r");
    if (!f) {
        snprintf(err, errlen, "cannot read %s: %s", path, strerror(errno));
        return -1;
    }
    int got = fgets(line, sizeof line, f) != NULL;
    fclose(f);
    char *save = NULL, *a = got ? strtok_r(line, " \t\r\n", &save) : NULL;
    char *b = a ? strtok_r(NULL, " \t\r\n", &save) : NULL;
    if (!a || (b && strtok_r(NULL, " \t\r\n", &save))) {
        snprintf(err, errlen, "%s: expected \"password\" or \"user password\" on its first line",
                 path);
        return -1;
    }
    *user = b ? a : NULL;
    *password = b ? b : a;
    return 0;
}

int vd_redis_check_address(const char *address, char *err, size_t errlen) {
    char host[256];
    int port;
    if (strncmp(address, "rediss://", 9) == 0) {
        snprintf(err, errlen,
                 "'%s': TLS to Redis is not supported; reach it through a local TLS tunnel or "
                 "proxy on a Unix socket or loopback port (docs/operations.md)",
                 address);
        return -1;
    }
    if (parse_address(address, host, sizeof host, &port) == 0) return 0;
    snprintf(err, errlen,
             "'%s' is not a Redis address (host:port, redis://host:port, "
             "unix:/path or /path)",
             address);
    return -1;
}

/* ---- the waiting list ---- */

static void link_slot(vd_redis_t *r, slot_t *s) {
    slot_t *after = r->tail; /* deadlines mostly grow: search from the end */
    while (after && after->deadline_ns > s->deadline_ns)
        after = after->prev;
    s->prev = after;
    s->next = after ? after->next : r->head;
    if (s->next)
        s->next->prev = s;
    else
        r->tail = s;
    if (after)
        after->next = s;
    else
        r->head = s;
    r->in_flight++;
}

static void unlink_slot(vd_redis_t *r, slot_t *s) {
    if (s->prev)
        s->prev->next = s->next;
    else
        r->head = s->next;
    if (s->next)
        s->next->prev = s->prev;
    else
        r->tail = s->prev;
    s->prev = s->next = NULL;
    r->in_flight--;
}

static void arm_op_timer(vd_redis_t *r) {
    if (r->shutting_down) return;
    if (!r->head) {
        uv_timer_stop(&r->op_timer);
        return;
    }
    int64_t left = r->head->deadline_ns - vd_now_ns();
    uv_timer_start(&r->op_timer, on_op_timer, left <= 0 ? 0 : (uint64_t)((left + 999999) / 1000000),
                   0);
}

static void fail_op(vd_redis_t *r, vd_state_op_t *op, const char *fmt, const char *detail) {
    char why[120];
    snprintf(why, sizeof why, fmt, detail);
    atomic_fetch_add(&r->stats.failed, 1);
    vd_state_op_fail(op, why);
}

/* ---- connection ---- */

static void connect_now(vd_redis_t *r);

static void schedule_retry(vd_redis_t *r) {
    if (r->shutting_down) return;
    r->state = DOWN;
    atomic_store(&r->stats.connected, 0);
    uv_timer_start(&r->retry_timer, on_retry, (uint64_t)r->backoff_ms, 0);
    r->backoff_ms = r->backoff_ms * 2 > BACKOFF_MAX_MS ? BACKOFF_MAX_MS : r->backoff_ms * 2;
}

static void log_down(vd_redis_t *r, const char *why) {
    if (r->failures_logged++ == 0)
        vd_log(VD_LOG_WARN,
               "worker %d: Redis at %s unavailable (%s): state falls back until it "
               "returns; retrying with backoff",
               r->worker, r->cfg.address, why);
}

/* Drops the connection on purpose: waiting operations fail now. */
static void drop(vd_redis_t *r, const char *why) {
    redisAsyncContext *ac = r->ac;
    r->ac = NULL;
    log_down(r, why);
    schedule_retry(r);
    if (ac) redisAsyncFree(ac); /* runs the waiting callbacks with no reply */
}

static void on_retry(uv_timer_t *t) {
    vd_redis_t *r = t->data;
    if (r->state == CONNECTING) { /* the connection attempt took too long */
        drop(r, "connect timeout");
        return;
    }
    connect_now(r);
}

/* The campaign code as a function (FCALL, Redis 7), or as a script by its SHA1 (EVALSHA, older
 * servers and ACLs without FUNCTION); until either is known, operations send the script whole. */
static void on_function_loaded(redisAsyncContext *ac, void *reply, void *priv) {
    vd_redis_t *r = priv;
    redisReply *rep = reply;
    if (r->ac != ac || !rep) return;
    r->campaign_fn = rep->type == REDIS_REPLY_STRING;
    if (!r->campaign_fn)
        vd_log(VD_LOG_DEBUG, "worker %d: no Redis function for campaigns (%s): scripts instead",
               r->worker, rep->type == REDIS_REPLY_ERROR ? rep->str : "unexpected reply");
}

static void on_script_loaded(redisAsyncContext *ac, void *reply, void *priv) {
    vd_redis_t *r = priv;
    redisReply *rep = reply;
    if (r->ac != ac || !rep) return;
    if (rep->type == REDIS_REPLY_STRING && rep->len == 40)
        memcpy(r->campaign_sha, rep->str, 41);
    else if (rep->type == REDIS_REPLY_ERROR)
        vd_log(VD_LOG_WARN, "worker %d: Redis refused the campaign script: %s", r->worker,
               rep->str);
}

static void load_campaign_code(vd_redis_t *r) {
    size_t lib_len, eval_len;
    const char *lib = vd_redis_campaign_library(&lib_len);
    const char *text = vd_redis_campaign_eval(&eval_len);
    const char *fn[] = {"FUNCTION", "LOAD", "REPLACE", lib}, *sc[] = {"SCRIPT", "LOAD", text};
    size_t fn_lens[] = {8, 4, 7, lib_len}, sc_lens[] = {6, 4, eval_len};
    r->campaign_fn = 0;
    r->campaign_sha[0] = '\0';
    if (!r->ac) return;
    vd_redis_send(r->ac, on_function_loaded, r, 4, fn, fn_lens);
    vd_redis_send(r->ac, on_script_loaded, r, 3, sc, sc_lens);
}

/* The server answered the first PING: it is serving, not merely accepting connections. */
static void on_ping(redisAsyncContext *ac, void *reply, void *priv) {
    vd_redis_t *r = priv;
    redisReply *rep = reply;
    if (r->ac != ac || r->state != CONNECTING) return;
    if (!rep || rep->type == REDIS_REPLY_ERROR) {
        drop(r, rep ? rep->str : "no answer to PING");
        return;
    }
    uv_timer_stop(&r->retry_timer);
    r->state = UP;
    r->backoff_ms = BACKOFF_MIN_MS;
    r->timeouts_in_a_row = 0;
    atomic_store(&r->stats.connected, 1);
    atomic_fetch_add(&r->stats.connects, 1);
    if (r->failures_logged)
        vd_log(VD_LOG_INFO, "worker %d: Redis is back", r->worker);
    else
        vd_log(VD_LOG_DEBUG, "worker %d: connected to Redis", r->worker);
    r->failures_logged = 0;
    load_campaign_code(r);
}

static void on_auth(redisAsyncContext *ac, void *reply, void *priv) {
    vd_redis_t *r = priv;
    redisReply *rep = reply;
    if (r->ac != ac || r->state != CONNECTING || !rep || rep->type != REDIS_REPLY_ERROR) return;
    char why[160];
    snprintf(why, sizeof why, "AUTH refused: %.120s", rep->str);
    drop(r, why);
}

static void on_connect(const redisAsyncContext *ac, int status) {
    vd_redis_t *r = ac->data;
    if (r->ac != ac) return;
    if (status != REDIS_OK) {
        r->ac = NULL; /* hiredis frees it */
        log_down(r, ac->errstr);
        schedule_retry(r);
        return;
    }
    if (r->cfg.password) { /* the PING below waits behind it */
        const char *argv[] = {"AUTH", r->cfg.user ? r->cfg.user : r->cfg.password, r->cfg.password};
        size_t lens[] = {4, strlen(argv[1]), strlen(r->cfg.password)};
        vd_redis_send(r->ac, on_auth, r, r->cfg.user ? 3 : 2, argv, lens);
    }
    /* Still connecting until PING is answered; the connect timer keeps running meanwhile. */
    if (redisAsyncCommand(r->ac, on_ping, r, "PING") != REDIS_OK) drop(r, "cannot send PING");
}

static void on_disconnect(const redisAsyncContext *ac, int status) {
    vd_redis_t *r = ac->data;
    (void)status;
    if (r->ac != ac) return; /* dropped on purpose */
    r->ac = NULL;
    log_down(r, ac->errstr[0] ? ac->errstr : "connection closed");
    schedule_retry(r);
}

static void connect_now(vd_redis_t *r) {
    redisAsyncContext *ac =
        r->port ? redisAsyncConnect(r->host, r->port) : redisAsyncConnectUnix(r->host);
    if (!ac || ac->err) {
        log_down(r, ac ? ac->errstr : "out of memory");
        if (ac) redisAsyncFree(ac);
        schedule_retry(r);
        return;
    }
    ac->data = r;
    if (vd_redis_uv_attach(ac, r->loop) != 0) {
        redisAsyncFree(ac);
        schedule_retry(r);
        return;
    }
    redisAsyncSetConnectCallback(ac, on_connect);
    redisAsyncSetDisconnectCallback(ac, on_disconnect);
    r->ac = ac;
    r->state = CONNECTING;
    uv_timer_start(&r->retry_timer, on_retry, CONNECT_TIMEOUT_MS, 0);
}

/* ---- operations ---- */

/* Sums the buckets of each window from an HMGET reply (bulk strings or nils) into out. */
static int sum_buckets(const redisReply *vals, int64_t out[VD_WINDOWS]) {
    if (vals->type != REDIS_REPLY_ARRAY || vals->elements != 6 * VD_WINDOWS) return -1;
    for (int w = 0; w < VD_WINDOWS; w++) {
        out[w] = 0;
        for (int j = 0; j < 6; j++) {
            const redisReply *v = vals->element[6 * w + j];
            if (v->type == REDIS_REPLY_STRING)
                out[w] += strtoll(v->str, NULL, 10);
            else if (v->type != REDIS_REPLY_NIL)
                return -1;
        }
    }
    return 0;
}

/* Reads the answer to a read of an entry of kind (HMGET of a counter's buckets, PFCOUNT, PTTL)
 * into out, as a state operation reports it. 0 when the reply has the expected shape. */
static int read_value(vd_store_kind_t kind, const redisReply *rep, int64_t out[VD_WINDOWS]) {
    if (kind == VD_STORE_COUNTER) return sum_buckets(rep, out);
    if (rep->type != REDIS_REPLY_INTEGER) return -1;
    if (kind == VD_STORE_DISTINCT) {
        out[0] = rep->integer;
    } else { /* PTTL: -2 no key, -1 no expiry, else milliseconds */
        int64_t ms = rep->integer;
        out[0] = ms == -2 ? -1 : ms == -1 ? INT32_MAX : (ms + 999) / 1000;
    }
    return 0;
}

/* A replacement's EXEC: the read of what was there, DEL, then what fills the new entry (a
 * distinct count's ends with its PFCOUNT). */
static int read_replacement(vd_state_op_t *op, const redisReply *rep) {
    if (rep->type != REDIS_REPLY_ARRAY || rep->elements < 2) return -1;
    memset(op->result, 0, sizeof op->result);
    if (read_value(op->target, rep->element[0], op->old) != 0) return -1;
    if (op->target == VD_STORE_COUNTER)
        for (int w = 0; w < VD_WINDOWS; w++)
            op->result[w] = op->n;
    else if (op->target == VD_STORE_LABEL)
        op->result[0] = op->n ? (int64_t)op->n : -1;
    else if (op->n)
        return read_value(VD_STORE_DISTINCT, rep->element[rep->elements - 1], op->result);
    return 0;
}

/* Fills op from the reply; 0 when the reply has the expected shape. *crowded: a counter holds
 * more buckets than its working set. */
static int read_reply(vd_state_op_t *op, const redisReply *rep, int *crowded) {
    *crowded = 0;
    if (op->kind == VD_OP_REPLACE) return read_replacement(op, rep);
    if (op->kind == VD_OP_CAMPAIGN) return vd_redis_campaign_read(op, rep);
    if (op->kind == VD_OP_COUNT) { /* HMGET, or EXEC of HINCRBY x3, EXPIRE, HMGET, HLEN */
        if (rep->type == REDIS_REPLY_ARRAY && rep->elements == VD_WINDOWS + 3) {
            const redisReply *hlen = rep->element[VD_WINDOWS + 2];
            *crowded = hlen->type == REDIS_REPLY_INTEGER && hlen->integer > WORKING_SET;
            rep = rep->element[VD_WINDOWS + 1];
        }
        return read_value(VD_STORE_COUNTER, rep, op->result);
    }
    if (op->kind == VD_OP_DISTINCT) { /* PFCOUNT, or EXEC of PFADD, EXPIRE, PFCOUNT */
        if (rep->type == REDIS_REPLY_ARRAY && rep->elements) rep = rep->element[rep->elements - 1];
        return read_value(VD_STORE_DISTINCT, rep, op->result);
    }
    return read_value(VD_STORE_LABEL, rep, op->result);
}

static void cleanup_counter(vd_redis_t *r, const vd_state_op_t *op);

static int send_op(vd_redis_t *r, slot_t *s);
static int send_campaign(vd_redis_t *r, slot_t *s);
static int send_campaign_as(vd_redis_t *r, slot_t *s, vd_redis_campaign_call_t how);

static void on_reply(redisAsyncContext *ac, void *reply, void *priv) {
    (void)ac;
    slot_t *s = priv;
    vd_redis_t *r = s->r;
    redisReply *rep = reply;
    vd_state_op_t *op = s->op;
    int crowded;
    if (!op) { /* answered after its deadline */
        free(s);
        return;
    }
    /* The server forgot the campaign code (restarted, flushed, failed over): the operation is
     * sent again with the script itself (which cannot meet this again), as is every other one
     * already sent by name; the code is loaded again, once, for the next ones. */
    if (rep && rep->type == REDIS_REPLY_ERROR && op->kind == VD_OP_CAMPAIGN && r->ac &&
        (strncmp(rep->str, "NOSCRIPT", 8) == 0 || strstr(rep->str, "Function not found"))) {
        if (r->campaign_fn || r->campaign_sha[0]) load_campaign_code(r);
        if (send_campaign_as(r, s, VD_REDIS_CAMPAIGN_EVAL) == REDIS_OK) return;
    }
    unlink_slot(r, s);
    free(s);
    if (!rep) {
        fail_op(r, op, "%s", "Redis connection lost");
    } else if (rep->type == REDIS_REPLY_ERROR) {
        fail_op(r, op, "Redis error: %.100s", rep->str);
    } else if (read_reply(op, rep, &crowded) != 0) {
        fail_op(r, op, "%s", "unexpected reply from Redis");
    } else {
        if (crowded) cleanup_counter(r, op);
        r->timeouts_in_a_row = 0;
        op->done(op);
    }
    arm_op_timer(r);
}

static void on_op_timer(uv_timer_t *t) {
    vd_redis_t *r = t->data;
    int64_t now = vd_now_ns();
    while (r->head && r->head->deadline_ns <= now) {
        slot_t *s = r->head;
        vd_state_op_t *op = s->op;
        unlink_slot(r, s);
        s->op = NULL;           /* hiredis still owns the slot until the reply or the disconnect */
        if (s->request_bound) { /* the request's own deadline: no sign of a hung server */
            fail_op(r, op, "%s", "the request's deadline passed while waiting for Redis");
            continue;
        }
        atomic_fetch_add(&r->stats.timeouts, 1);
        r->timeouts_in_a_row++;
        char why[64];
        snprintf(why, sizeof why, "%d ms", r->cfg.timeout_ms);
        fail_op(r, op, "Redis did not answer within %s", why);
    }
    if (r->timeouts_in_a_row >= TIMEOUTS_TO_DROP && r->state == UP) drop(r, "not answering");
    arm_op_timer(r);
}

/* The key as Redis sees it: prefix, type letter, then the rule's key in a hash tag so that a
 * key's data stays in one Cluster slot. */
static size_t redis_key(const vd_redis_t *r, char type, const char *key, size_t klen, char *out,
                        size_t cap) {
    size_t plen = strlen(r->cfg.prefix);
    if (plen + klen + 4 > cap) return 0;
    memcpy(out, r->cfg.prefix, plen);
    out[plen] = type;
    out[plen + 1] = ':';
    out[plen + 2] = '{';
    memcpy(out + plen + 3, key, klen);
    out[plen + 3 + klen] = '}';
    return plen + klen + 4;
}

/* A command of one word, without hiredis' printf-style formatting. */
static int word(vd_redis_t *r, redisCallbackFn *fn, void *priv, const char *w) {
    size_t len = strlen(w);
    return vd_redis_send(r->ac, fn, priv, 1, &w, &len);
}

/* The positive number after the ':' of text[0..len), made one less in place; returns the new
 * length (a number that loses a digit, 1000 -> 999, gets shorter). */
static size_t decrement(char *text, size_t len) {
    size_t i = len;
    while (text[i - 1] == '0') /* a digit above 0 comes first: the number is positive */
        text[--i] = '9';
    text[i - 1]--;
    size_t at = (size_t)((const char *)memchr(text, ':', len) - text) + 1;
    if (text[at] == '0' && at + 1 < len) {
        memmove(text + at, text + at + 1, len - at - 1);
        len--;
    }
    return len;
}

/* HMGET of a counter's buckets at a time: the six sixths of each window, newest first. */
typedef struct counter_get {
    const char *argv[2 + 6 * VD_WINDOWS];
    size_t lens[2 + 6 * VD_WINDOWS];
    char fields[6 * VD_WINDOWS][32];
} counter_get_t;

static void counter_get(counter_get_t *g, const char *key, size_t klen, int64_t now) {
    g->argv[0] = "HMGET";
    g->lens[0] = 5;
    g->argv[1] = key;
    g->lens[1] = klen;
    for (int w = 0; w < VD_WINDOWS; w++) {
        int64_t width = vd_window_seconds[w], sixth = now / (width / 6);
        for (int j = 0; j < 6; j++) {
            char *f = g->fields[6 * w + j];
            size_t len;
            if (j == 0 || sixth - j < 0) { /* "width:sixth" */
                char *o = vd_redis_put_int(f, width);
                *o++ = ':';
                len = (size_t)(vd_redis_put_int(o, sixth - j) - f);
            } else { /* the field before, one less: no formatting from scratch */
                len = g->lens[1 + 6 * w + j];
                memcpy(f, g->fields[6 * w + j - 1], len);
                len = decrement(f, len);
            }
            g->argv[2 + 6 * w + j] = f;
            g->lens[2 + 6 * w + j] = len;
        }
    }
}

static int send_get(vd_redis_t *r, redisCallbackFn *fn, void *priv, counter_get_t *g) {
    return vd_redis_send(r->ac, fn, priv, 2 + 6 * VD_WINDOWS, g->argv, g->lens);
}

/* HINCRBY of the current bucket of each window (those g reads first), then EXPIRE: the longest
 * window and a sixth. Inside a MULTI; nobody waits for these replies. */
static int counter_add(vd_redis_t *r, const counter_get_t *g, uint32_t add) {
    const char *key = g->argv[1];
    size_t klen = g->lens[1];
    char n[16], ttl[24];
    int64_t longest = vd_window_seconds[VD_WINDOWS - 1];
    snprintf(n, sizeof n, "%u", add);
    snprintf(ttl, sizeof ttl, "%lld", (long long)(longest + longest / 6));
    int rc = REDIS_OK;
    for (int w = 0; rc == REDIS_OK && w < VD_WINDOWS; w++) {
        const char *incr[] = {"HINCRBY", key, g->fields[6 * w], n};
        size_t incr_lens[] = {7, klen, g->lens[2 + 6 * w], strlen(n)};
        rc = vd_redis_send(r->ac, NULL, NULL, 4, incr, incr_lens);
    }
    const char *expire[] = {"EXPIRE", key, ttl};
    size_t expire_lens[] = {6, klen, strlen(ttl)};
    return rc == REDIS_OK ? vd_redis_send(r->ac, NULL, NULL, 3, expire, expire_lens) : rc;
}

static int send_count(vd_redis_t *r, slot_t *s, const char *key, size_t klen) {
    const vd_state_op_t *op = s->op;
    counter_get_t g;
    counter_get(&g, key, klen, op->now);
    if (op->n == 0) return send_get(r, on_reply, s, &g);
    const char *hlen[] = {"HLEN", key};
    size_t hlen_lens[] = {4, klen};
    int rc = word(r, NULL, NULL, "MULTI");
    if (rc == REDIS_OK) rc = counter_add(r, &g, op->n);
    if (rc == REDIS_OK) rc = send_get(r, NULL, NULL, &g);
    if (rc == REDIS_OK) rc = vd_redis_send(r->ac, NULL, NULL, 2, hlen, hlen_lens);
    return rc == REDIS_OK ? word(r, on_reply, s, "EXEC") : rc;
}

/* Distinct counts need no script: PFADD, EXPIRE and PFCOUNT in one MULTI (atomic, one key);
 * a read is PFCOUNT alone. Only the last reply carries the operation. */
static int send_distinct(vd_redis_t *r, slot_t *s, const char *key, size_t klen) {
    const vd_state_op_t *op = s->op;
    const char *count[] = {"PFCOUNT", key};
    size_t count_lens[] = {7, klen};
    if (!op->value) return vd_redis_send(r->ac, on_reply, s, 2, count, count_lens);
    char ttl[24];
    snprintf(ttl, sizeof ttl, "%lld", (long long)op->ttl);
    const char *add[] = {"PFADD", key, op->value}, *expire[] = {"EXPIRE", key, ttl};
    size_t add_lens[] = {5, klen, op->vlen}, expire_lens[] = {6, klen, strlen(ttl)};
    int rc = word(r, NULL, NULL, "MULTI");
    if (rc == REDIS_OK) rc = vd_redis_send(r->ac, NULL, NULL, 3, add, add_lens);
    if (rc == REDIS_OK && op->ttl > 0)
        rc = vd_redis_send(r->ac, NULL, NULL, 3, expire, expire_lens);
    if (rc == REDIS_OK) rc = vd_redis_send(r->ac, NULL, NULL, 2, count, count_lens);
    return rc == REDIS_OK ? word(r, on_reply, s, "EXEC") : rc;
}

/* PFADD of a replaced distinct count's placeholder values, made before its MULTI is sent: a
 * transaction is never left open for want of memory. */
typedef struct seeds {
    const char **argv;
    size_t *lens;
    char (*values)[24];
} seeds_t;

static void seeds_free(seeds_t *sd) {
    free(sd->argv);
    free(sd->lens);
    free(sd->values);
}

static int seeds_make(seeds_t *sd, const char *key, size_t klen, uint32_t n) {
    sd->argv = malloc((n + 2) * sizeof *sd->argv);
    sd->lens = malloc((n + 2) * sizeof *sd->lens);
    sd->values = malloc((n ? n : 1) * sizeof *sd->values);
    if (!sd->argv || !sd->lens || !sd->values) {
        seeds_free(sd);
        return -1;
    }
    sd->argv[0] = "PFADD";
    sd->lens[0] = 5;
    sd->argv[1] = key;
    sd->lens[1] = klen;
    for (uint32_t i = 0; i < n; i++) {
        sd->argv[2 + i] = sd->values[i];
        sd->lens[2 + i] = vd_store_seed_value(i, sd->values[i]);
    }
    return 0;
}

/* What fills a replaced entry (as vd_store_replace does), inside its MULTI. */
static int fill_replacement(vd_redis_t *r, const vd_state_op_t *op, counter_get_t *g,
                            const seeds_t *sd) {
    const char *key = g->argv[1];
    size_t klen = g->lens[1];
    char num[24];
    snprintf(num, sizeof num, "%lld", (long long)(op->target == VD_STORE_LABEL ? op->n : op->ttl));
    const char *expire[] = {"EXPIRE", key, num}, *count[] = {"PFCOUNT", key};
    const char *set[] = {"SET", key, "1", "EX", num};
    size_t expire_lens[] = {6, klen, strlen(num)}, count_lens[] = {7, klen};
    size_t set_lens[] = {3, klen, 1, 2, strlen(num)};
    if (op->target == VD_STORE_COUNTER) return counter_add(r, g, op->n);
    if (op->target == VD_STORE_LABEL) return vd_redis_send(r->ac, NULL, NULL, 5, set, set_lens);
    int rc = vd_redis_send(r->ac, NULL, NULL, (int)op->n + 2, sd->argv, sd->lens);
    if (rc == REDIS_OK && op->ttl > 0)
        rc = vd_redis_send(r->ac, NULL, NULL, 3, expire, expire_lens);
    return rc == REDIS_OK ? vd_redis_send(r->ac, NULL, NULL, 2, count, count_lens) : rc;
}

/* An operator's change, atomic on its one key: MULTI, a read of what is there, DEL, what fills
 * the new entry (nothing for a reset), EXEC. */
static int send_replace(vd_redis_t *r, slot_t *s, const char *key, size_t klen) {
    vd_state_op_t *op = s->op;
    counter_get_t g;
    seeds_t sd = {0};
    counter_get(&g, key, klen, op->now);
    if (op->target == VD_STORE_DISTINCT && op->n && seeds_make(&sd, key, klen, op->n) != 0) {
        snprintf(op->why, sizeof op->why, "out of memory");
        return REDIS_ERR;
    }
    const char *read[] = {op->target == VD_STORE_DISTINCT ? "PFCOUNT" : "PTTL", key};
    size_t read_lens[] = {strlen(read[0]), klen};
    const char *del[] = {"DEL", key};
    size_t del_lens[] = {3, klen};
    int rc = word(r, NULL, NULL, "MULTI");
    if (rc == REDIS_OK)
        rc = op->target == VD_STORE_COUNTER ? send_get(r, NULL, NULL, &g)
                                            : vd_redis_send(r->ac, NULL, NULL, 2, read, read_lens);
    if (rc == REDIS_OK) rc = vd_redis_send(r->ac, NULL, NULL, 2, del, del_lens);
    if (rc == REDIS_OK && op->n) rc = fill_replacement(r, op, &g, &sd);
    seeds_free(&sd);
    return rc == REDIS_OK ? word(r, on_reply, s, "EXEC") : rc;
}

/* Drops the buckets of a crowded counter that left their window; nobody waits for it. */
static void cleanup_counter(vd_redis_t *r, const vd_state_op_t *op) {
    char key[1200], now[24];
    size_t klen = redis_key(r, 'c', op->key, op->klen, key, sizeof key);
    snprintf(now, sizeof now, "%lld", (long long)op->now);
    const char *argv[] = {"EVAL", cleanup_script, "1", key, now};
    size_t lens[] = {4, strlen(cleanup_script), 1, klen, strlen(now)};
    if (klen && r->ac) vd_redis_send(r->ac, NULL, NULL, 5, argv, lens);
}

/* A campaign lookup or report: one call of the code (redis_campaign.h), made as how. */
static int send_campaign_as(vd_redis_t *r, slot_t *s, vd_redis_campaign_call_t how) {
    vd_redis_campaign_cmd_t cmd;
    if (vd_redis_campaign_cmd(&cmd, s->op, r->cfg.prefix, how, r->campaign_sha) != 0)
        return REDIS_ERR;
    return vd_redis_send(r->ac, on_reply, s, cmd.argc, cmd.argv, cmd.lens);
}

/* ... as the server knows the code best: a function, a script by its SHA1, or the script. */
static int send_campaign(vd_redis_t *r, slot_t *s) {
    return send_campaign_as(r, s,
                            r->campaign_fn       ? VD_REDIS_CAMPAIGN_FCALL
                            : r->campaign_sha[0] ? VD_REDIS_CAMPAIGN_EVALSHA
                                                 : VD_REDIS_CAMPAIGN_EVAL);
}

static int send_op(vd_redis_t *r, slot_t *s) {
    vd_state_op_t *op = s->op;
    char key[1200];
    if (op->kind == VD_OP_CAMPAIGN) {
        if (send_campaign(r, s) != REDIS_OK) {
            if (!op->why[0]) snprintf(op->why, sizeof op->why, "Redis connection is closing");
            return -1;
        }
        link_slot(r, s);
        if (r->head == s) arm_op_timer(r);
        return 0;
    }
    static const vd_store_kind_t entry_of[] = {[VD_OP_COUNT] = VD_STORE_COUNTER,
                                               [VD_OP_DISTINCT] = VD_STORE_DISTINCT,
                                               [VD_OP_LABELED] = VD_STORE_LABEL};
    vd_store_kind_t entry = op->kind == VD_OP_REPLACE ? op->target : entry_of[op->kind];
    char type = "cdl"[entry]; /* counters, distinct counts, labels */
    size_t klen = redis_key(r, type, op->key, op->klen, key, sizeof key);
    if (!klen) {
        snprintf(op->why, sizeof op->why, "key longer than 1024 bytes");
        return -1;
    }
    const char *pttl[] = {"PTTL", key};
    size_t pttl_lens[] = {4, klen};
    int rc = op->kind == VD_OP_COUNT      ? send_count(r, s, key, klen)
             : op->kind == VD_OP_DISTINCT ? send_distinct(r, s, key, klen)
             : op->kind == VD_OP_REPLACE  ? send_replace(r, s, key, klen)
                                          : vd_redis_send(r->ac, on_reply, s, 2, pttl, pttl_lens);
    if (rc != REDIS_OK) {
        if (!op->why[0]) snprintf(op->why, sizeof op->why, "Redis connection is closing");
        return -1;
    }
    link_slot(r, s);
    if (r->head == s) arm_op_timer(r);
    return 0;
}

int vd_redis_submit(vd_redis_t *r, vd_state_op_t *op) {
    if (r->state != UP || !r->ac) {
        snprintf(op->why, sizeof op->why, "Redis unavailable (reconnecting)");
    } else if (r->in_flight >= MAX_IN_FLIGHT) {
        snprintf(op->why, sizeof op->why, "too many Redis operations waiting (%d)", MAX_IN_FLIGHT);
    } else {
        slot_t *s = calloc(1, sizeof *s);
        if (s) {
            *s = (slot_t){.op = op,
                          .r = r,
                          .deadline_ns = vd_now_ns() + (int64_t)r->cfg.timeout_ms * 1000000};
            if (op->deadline_ns && op->deadline_ns < s->deadline_ns) {
                s->deadline_ns = op->deadline_ns;
                s->request_bound = 1;
            }
            if (send_op(r, s) == 0) {
                atomic_fetch_add(&r->stats.ops, 1);
                return 0;
            }
            free(s);
        } else {
            snprintf(op->why, sizeof op->why, "out of memory");
        }
    }
    atomic_fetch_add(&r->stats.failed, 1);
    op->failed = 1;
    return -1;
}

static void on_label_reply(redisAsyncContext *ac, void *reply, void *priv) {
    (void)ac;
    redisReply *rep = reply;
    vd_redis_t *r = priv;
    if (!rep || rep->type == REDIS_REPLY_ERROR) atomic_fetch_add(&r->stats.failed, 1);
}

int vd_redis_label(vd_redis_t *r, const char *key, size_t klen, int64_t ttl, char *why,
                   size_t whylen) {
    char k[1200], secs[24];
    size_t n = redis_key(r, 'l', key, klen, k, sizeof k);
    int rc = REDIS_ERR;
    if (n && r->state == UP && r->ac) {
        snprintf(secs, sizeof secs, "%lld", (long long)ttl);
        const char *argv[] = {ttl > 0 ? "SET" : "DEL", k, "1", "EX", secs};
        size_t lens[] = {3, n, 1, 2, strlen(secs)};
        rc = vd_redis_send(r->ac, on_label_reply, r, ttl > 0 ? 5 : 2, argv, lens);
    }
    if (rc == REDIS_OK) {
        atomic_fetch_add(&r->stats.ops, 1);
        return 0;
    }
    atomic_fetch_add(&r->stats.failed, 1);
    snprintf(why, whylen, "%s",
             n ? "Redis unavailable (reconnecting)" : "key longer than 1024 bytes");
    return -1;
}

int vd_redis_keep_refs(vd_redis_t *r, const char *id, size_t len, const vd_campaign_refs_t *refs,
                       char *why, size_t whylen) {
    char k[1200], ttl[24];
    unsigned char bytes[VD_REDIS_REFS_BYTES];
    size_t n = vd_redis_refs_key(r->cfg.prefix, id, len, k, sizeof k);
    int rc = REDIS_ERR;
    if (n && r->state == UP && r->ac) {
        snprintf(ttl, sizeof ttl, "%lld", (long long)VD_CAMPAIGN_REFS_TTL);
        const char *argv[] = {"SET", k, (const char *)bytes, "EX", ttl};
        size_t lens[] = {3, n, vd_redis_refs_encode(refs, bytes), 2, strlen(ttl)};
        rc = vd_redis_send(r->ac, on_label_reply, r, 5, argv, lens);
    }
    if (rc == REDIS_OK) {
        atomic_fetch_add(&r->stats.ops, 1);
        return 0;
    }
    atomic_fetch_add(&r->stats.failed, 1);
    snprintf(why, whylen, "%s", n ? "Redis unavailable (reconnecting)" : "decision id too long");
    return -1;
}

/* ---- lifetime ---- */

vd_redis_t *vd_redis_new(uv_loop_t *loop, const vd_redis_config_t *cfg, int worker_id) {
    vd_redis_t *r = calloc(1, sizeof *r);
    if (!r) return NULL;
    r->loop = loop;
    r->cfg = *cfg;
    if (!r->cfg.prefix) r->cfg.prefix = "verdict:";
    if (r->cfg.timeout_ms <= 0) r->cfg.timeout_ms = 50;
    r->worker = worker_id;
    r->backoff_ms = BACKOFF_MIN_MS;
    if (parse_address(cfg->address, r->host, sizeof r->host, &r->port) != 0) {
        free(r);
        return NULL;
    }
    uv_timer_init(loop, &r->retry_timer);
    uv_timer_init(loop, &r->op_timer);
    r->retry_timer.data = r->op_timer.data = r;
    uv_timer_start(&r->retry_timer, on_retry, 0, 0); /* connect once the loop runs */
    return r;
}

void vd_redis_shutdown(vd_redis_t *r) {
    if (!r || r->shutting_down) return;
    r->shutting_down = 1;
    r->state = DOWN;
    atomic_store(&r->stats.connected, 0);
    uv_close((uv_handle_t *)&r->retry_timer, NULL);
    uv_close((uv_handle_t *)&r->op_timer, NULL);
    redisAsyncContext *ac = r->ac;
    r->ac = NULL;
    if (ac) redisAsyncFree(ac);
    while (r->head) { /* what hiredis did not answer (not yet sent: none) */
        slot_t *s = r->head;
        unlink_slot(r, s);
        vd_state_op_t *op = s->op;
        s->op = NULL;
        if (op) fail_op(r, op, "%s", "shutting down");
    }
}

void vd_redis_free(vd_redis_t *r) {
    free(r);
}

void vd_redis_totals_add(const vd_redis_t *r, vd_redis_totals_t *t) {
    if (!r) return;
    t->ops += atomic_load(&r->stats.ops);
    t->fallbacks += atomic_load(&r->stats.failed);
    t->timeouts += atomic_load(&r->stats.timeouts);
    t->connects += atomic_load(&r->stats.connects);
    t->connected += (uint64_t)atomic_load(&r->stats.connected);
}
