#include "dlog.h"

#include "base/error.h"
#include "base/log.h"
#include "proto/json_write.h"
#include "state/list.h"

#include <msgpack.h>
#include <sched.h>
#include <stdalign.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define OUT_HIGH (1 << 20) /* JSON bytes the writer gathers before it writes */
/* The writer's nap when every ring was empty: short while records come (small, even bursts of
 * work: a long nap made a burst long enough to hold back decisions), doubling to the longest
 * while they do not (an idle daemon wakes a few times a second). */
#define NAP_SHORTEST_NS 1000000
#define NAP_LONGEST_NS  64000000
/* Lines staged for direct writes reach the file when the writer runs out of lines, at most
 * this often (and whenever a 1 MiB chunk fills). */
#define SETTLE_EVERY_NS 100000000
#define WRITE_WAIT      100 /* ms a write waits for a full sink before the writer looks again */
#define ERROR_LOG_NS    (60 * (int64_t)1000000000)

struct vd_dlog {
    vd_dlog_config_t cfg;
    vd_dlog_lane_t *lanes;
    vd_dlog_sink_t sink;
    pthread_t thread;
    int started;
    _Atomic int stop, reopen, crashing, writing;
    int64_t stop_deadline_ns;
    msgpack_sbuffer out; /* JSON lines converted, not yet written */
    size_t out_off;      /* written from out so far */
    uint64_t out_lines;  /* whole lines in out past out_off (counted as taken, not searched) */
    int line_open;       /* out_off is inside a line (a write stopped in its middle) */
    _Atomic uint64_t records, dropped_sink, bytes, rotations, reopens, write_errors, buffered;
    _Atomic uint64_t manifests;
    /* The manifest: the policy part given by vd_dlog_set_policy (under policy_lock), and what
     * the writer last described. */
    pthread_mutex_t policy_lock;
    char *policy;
    size_t policy_len;
    uint64_t policy_serial, written_serial, written_lists, written_opens;
    msgpack_sbuffer manifest; /* the line being built */
    vd_log_limit_t error_log;
};

static int64_t mono_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static void count(_Atomic uint64_t *c, uint64_t n) {
    atomic_fetch_add_explicit(c, n, memory_order_relaxed);
}

static void report_error(vd_dlog_t *l) {
    unsigned long long skipped;
    if (!l->sink.error[0]) return;
    if (vd_log_limit_pass(&l->error_log, ERROR_LOG_NS, mono_ns(), &skipped))
        vd_log(VD_LOG_WARN, "decision log: %s (%llu more since the last line)", l->sink.error,
               skipped);
    l->sink.error[0] = '\0';
}

/* Takes one record, a JSON line the worker wrote, into out. */
static void take(vd_dlog_t *l, const char *rec, size_t n) {
    if (msgpack_sbuffer_write(&l->out, rec, n) != 0)
        count(&l->dropped_sink, 1);
    else
        l->out_lines++;
}

static void pack_list(const vd_list_info_t *info, size_t i, size_t n, void *arg) {
    msgpack_packer *pk = arg;
    (void)i, (void)n;
    char hash[24];
    snprintf(hash, sizeof hash, "%016llx", (unsigned long long)info->hash);
    msgpack_pack_map(pk, 4);
    msgpack_pack_str_with_body(pk, "path", 4);
    msgpack_pack_str_with_body(pk, info->path, strlen(info->path));
    msgpack_pack_str_with_body(pk, "hash", 4);
    msgpack_pack_str_with_body(pk, hash, strlen(hash));
    msgpack_pack_str_with_body(pk, "version", 7);
    msgpack_pack_uint64(pk, info->version);
    msgpack_pack_str_with_body(pk, "entries", 7);
    msgpack_pack_uint64(pk, info->entries);
}

/* The manifest line, JSON, into the writer's manifest buffer: {"type": "manifest", "time",
 * "policy": {...}, "lists_generation", "lists": [{path, hash, version, entries}]}. */
static void build_manifest(vd_dlog_t *l, uint64_t lists_gen) {
    msgpack_sbuffer mp;
    msgpack_sbuffer_init(&mp);
    msgpack_packer pk;
    msgpack_packer_init(&pk, &mp, msgpack_sbuffer_write);
    msgpack_pack_map(&pk, 5);
    msgpack_pack_str_with_body(&pk, "type", 4);
    msgpack_pack_str_with_body(&pk, "manifest", 8);
    msgpack_pack_str_with_body(&pk, "time", 4);
    char now[40];
    time_t t = time(NULL);
    struct tm tm;
    gmtime_r(&t, &tm);
    size_t tn = strftime(now, sizeof now, "%Y-%m-%dT%H:%M:%SZ", &tm);
    msgpack_pack_str_with_body(&pk, now, tn);
    msgpack_pack_str_with_body(&pk, "policy", 6);
    pthread_mutex_lock(&l->policy_lock);
    if (l->policy)
        msgpack_sbuffer_write(&mp, l->policy, l->policy_len);
    else
        msgpack_pack_nil(&pk);
    l->written_serial = l->policy_serial;
    pthread_mutex_unlock(&l->policy_lock);
    msgpack_pack_str_with_body(&pk, "lists_generation", 16);
    msgpack_pack_uint64(&pk, lists_gen);
    msgpack_pack_str_with_body(&pk, "lists", 5);
    size_t at = mp.size;
    msgpack_pack_array(&pk, 0); /* replaced when there are lists: their count comes first */
    msgpack_sbuffer lists;
    msgpack_sbuffer_init(&lists);
    msgpack_packer lp;
    msgpack_packer_init(&lp, &lists, msgpack_sbuffer_write);
    size_t n = vd_lists_each(pack_list, &lp);
    if (n) {
        mp.size = at;
        msgpack_pack_array(&pk, (uint32_t)n);
        msgpack_sbuffer_write(&mp, lists.data, lists.size);
    }
    msgpack_sbuffer_destroy(&lists);
    l->manifest.size = 0;
    if (mp.data && vd_mp_to_json(&l->manifest, mp.data, mp.size) == mp.size)
        msgpack_sbuffer_write(&l->manifest, "\n", 1);
    else
        l->manifest.size = 0;
    msgpack_sbuffer_destroy(&mp);
    l->written_lists = lists_gen;
}

/* Moves records from the lanes into out while out holds less than OUT_HIGH unwritten bytes
 * (a stalled sink thus leaves the records in the rings, where new ones are refused). */
static size_t gather(vd_dlog_t *l) {
    size_t moved = 0;
    for (int i = 0; i < l->cfg.nrings; i++) {
        vd_dlog_ring_t *r = &l->lanes[i].ring;
        const char *rec;
        size_t n;
        while (l->out.size - l->out_off < OUT_HIGH && (rec = vd_dlog_ring_peek(r, &n)) != NULL) {
            take(l, rec, n);
            vd_dlog_ring_pop(r);
            moved++;
        }
    }
    return moved;
}

static uint64_t lines_in(const char *p, size_t n) {
    uint64_t k = 0;
    for (const char *e = p + n; p < e && (p = memchr(p, '\n', (size_t)(e - p))) != NULL; p++)
        k++;
    return k;
}

/* Drops what out holds unwritten, counting its lines. */
static void drop_out(vd_dlog_t *l) {
    count(&l->dropped_sink, l->out_lines);
    l->out_lines = 0;
    l->out_off = l->out.size;
    l->line_open = 0;
}

/* A manifest line goes first in every file (opened, reopened or rotated to), so that each file
 * can be read on its own, and before the records that follow a change of policy or lists. */
static void top_of_file(vd_dlog_t *l, size_t n) {
    if (l->sink.fd < 0) vd_dlog_sink_reopen(&l->sink); /* the last open failed: try again */
    vd_dlog_sink_rotate_if_due(&l->sink, n);
    if (l->sink.fd < 0) return;
    uint64_t gen = vd_lists_generation();
    pthread_mutex_lock(&l->policy_lock);
    int changed = l->policy_serial != l->written_serial;
    pthread_mutex_unlock(&l->policy_lock);
    if (l->sink.opens == l->written_opens && !changed && gen == l->written_lists) return;
    l->written_opens = l->sink.opens;
    build_manifest(l, gen);
    if (!l->manifest.size) return;
    size_t w = vd_dlog_sink_write(&l->sink, l->manifest.data, l->manifest.size, 1, WRITE_WAIT);
    count(&l->bytes, w);
    if (w == l->manifest.size) count(&l->manifests, 1);
}

/* The writer touches the sink only between begin_writing and writing = 0, and not at all once
 * the process is crashing: the crash handler then finishes what the sink holds itself. The
 * flag is raised before crashing is looked at, so that one of the two threads sees the other. */
static int begin_writing(vd_dlog_t *l) {
    atomic_store(&l->writing, 1);
    if (!atomic_load(&l->crashing)) return 1;
    atomic_store(&l->writing, 0);
    return 0;
}

/* Out of lines for now: what the sink staged for its direct writes goes into the file, so
 * that a line is readable a moment after its decision (and whole after a kill). */
static void settle(vd_dlog_t *l) {
    if (!begin_writing(l)) return;
    if (vd_dlog_sink_flush(&l->sink) != 0) {
        count(&l->write_errors, 1);
        report_error(l);
    }
    atomic_store(&l->writing, 0);
}

/* Before the first of n bytes of new lines: the file is opened again when asked to (SIGHUP)
 * or when it is gone, rotated when due, and given its manifest line when it needs one. */
static void before_lines(vd_dlog_t *l, size_t n) {
    if (atomic_exchange(&l->reopen, 0)) {
        count(&l->reopens, 1);
        vd_dlog_sink_reopen(&l->sink);
    } else if (vd_dlog_sink_gone(&l->sink)) {
        /* Deleted or replaced under us: writing on would lose every record without an error. */
        vd_log(VD_LOG_WARN, "decision log: %s was removed or replaced: opening it again",
               l->sink.cfg.path);
        count(&l->reopens, 1);
        vd_dlog_sink_reopen(&l->sink);
    }
    top_of_file(l, n);
}

/* With direct writes, records go from the rings straight into the sink's staging buffer: one
 * copy of each line instead of two (into out, then into that buffer), which was a third of the
 * writer's time. Only between whole lines and with out empty; the bytes the rings held when it
 * began, at most, so that rotation sees them before they are written. Returns the records
 * moved. */
static size_t gather_direct(vd_dlog_t *l) {
    if (!l->sink.direct.buf || l->line_open || l->out.size != l->out_off) return 0;
    size_t budget = 0; /* the bytes announced to rotation: what the rings hold now */
    for (int i = 0; i < l->cfg.nrings; i++)
        budget += vd_dlog_ring_used(&l->lanes[i].ring);
    if (!budget || !begin_writing(l)) return 0;
    uint64_t rotations = l->sink.rotations;
    before_lines(l, budget);
    size_t moved = 0, bytes = 0;
    for (int i = 0; i < l->cfg.nrings && l->out.size == l->out_off; i++) {
        vd_dlog_ring_t *r = &l->lanes[i].ring;
        const char *rec;
        size_t n;
        while (l->sink.direct.buf && (rec = vd_dlog_ring_peek(r, &n)) != NULL && n <= budget) {
            size_t w = vd_dlog_sink_write(&l->sink, rec, n, 1, WRITE_WAIT);
            bytes += w;
            budget -= n;
            if (w < n) { /* the direct write failed: the rest of the line goes the usual way */
                l->line_open = w > 0;
                size_t before = l->out.size;
                take(l, rec + w, n - w);
                if (l->line_open && l->out.size == before) { /* no memory for the rest: end */
                    vd_dlog_sink_write(&l->sink, "\n", 1, 0, WRITE_WAIT); /* the torn line */
                    l->line_open = 0;
                }
                vd_dlog_ring_pop(r);
                break;
            }
            vd_dlog_ring_pop(r);
            moved++;
        }
    }
    atomic_store(&l->writing, 0);
    count(&l->records, moved);
    count(&l->bytes, bytes);
    count(&l->rotations, l->sink.rotations - rotations);
    return moved + (l->out.size != l->out_off);
}

/* One write of what out holds, waiting at most WRITE_WAIT ms for a full sink. On a failed
 * write (not a full sink) the lines not written are dropped and counted: a broken disk must not
 * stop the writer, nor hold records that newer ones could take the place of. */
static void flush(vd_dlog_t *l) {
    if (l->out_off == l->out.size || !begin_writing(l)) return;
    int begins = !l->line_open;
    uint64_t rotations = l->sink.rotations;
    if (begins) before_lines(l, l->out.size - l->out_off);
    size_t w = vd_dlog_sink_write(&l->sink, l->out.data + l->out_off, l->out.size - l->out_off,
                                  begins, WRITE_WAIT);
    atomic_store(&l->writing, 0);
    count(&l->rotations, l->sink.rotations - rotations);
    /* Records count once their line is whole in the sink: one converted but then refused is
     * counted as dropped instead, not both. */
    uint64_t lines =
        w == l->out.size - l->out_off ? l->out_lines : lines_in(l->out.data + l->out_off, w);
    count(&l->records, lines);
    l->out_lines -= lines;
    l->out_off += w;
    count(&l->bytes, w);
    if (w > 0) l->line_open = l->out.data[l->out_off - 1] != '\n';
    if (l->out_off < l->out.size && l->sink.error[0]) {
        count(&l->write_errors, 1);
        report_error(l);
        drop_out(l);
    }
    if (l->out_off == l->out.size) {
        l->out.size = l->out_off = 0;
    } else if (l->out_off >= OUT_HIGH) { /* keep the unwritten part at the front */
        memmove(l->out.data, l->out.data + l->out_off, l->out.size - l->out_off);
        l->out.size -= l->out_off;
        l->out_off = 0;
    }
}

static size_t queued(vd_dlog_t *l) {
    size_t n = l->out.size - l->out_off;
    for (int i = 0; i < l->cfg.nrings; i++)
        n += vd_dlog_ring_used(&l->lanes[i].ring);
    return n;
}

/* Stopping past the deadline: whatever is still queued is dropped and counted. */
static void drop_everything(vd_dlog_t *l) {
    drop_out(l);
    for (int i = 0; i < l->cfg.nrings; i++) {
        vd_dlog_ring_t *r = &l->lanes[i].ring;
        size_t n;
        while (vd_dlog_ring_peek(r, &n)) {
            vd_dlog_ring_pop(r);
            count(&l->dropped_sink, 1);
        }
    }
}

static void *writer(void *arg) {
    vd_dlog_t *l = arg;
    /* Batch scheduling: waking up, the writer does not preempt a worker in the middle of a
     * decision (which cost the workers more than the writer's own work); it runs when they
     * wait or their slice ends. */
    struct sched_param batch = {0};
    pthread_setschedparam(pthread_self(), SCHED_BATCH, &batch);
    pthread_setname_np(pthread_self(), "verdictd-log"); /* for top -H, perf and ps */
    long nap_ns = NAP_SHORTEST_NS;
    int64_t settled_ns = 0;
    for (;;) {
        int stopping = atomic_load(&l->stop);
        size_t moved = gather_direct(l);
        if (!moved) moved = gather(l);
        flush(l);
        report_error(l);
        size_t left = queued(l);
        atomic_store_explicit(&l->buffered, left, memory_order_relaxed);
        if (stopping && (left == 0 || mono_ns() >= l->stop_deadline_ns)) break;
        if (moved) nap_ns = NAP_SHORTEST_NS;
        if (!moved && l->out.size == l->out_off) {
            /* Settling writes small blocks, and its partial block through the cache, which
             * the next direct write must then wait for: at most every SETTLE_EVERY_NS. */
            int64_t now = mono_ns();
            if (stopping || now - settled_ns >= SETTLE_EVERY_NS) {
                settle(l);
                settled_ns = now;
            }
            struct timespec nap = {0, stopping ? NAP_SHORTEST_NS : nap_ns};
            nanosleep(&nap, NULL);
            if (nap_ns < NAP_LONGEST_NS) nap_ns *= 2;
        }
    }
    if (queued(l)) {
        uint64_t before = atomic_load(&l->dropped_sink);
        drop_everything(l);
        vd_log(VD_LOG_WARN, "decision log: %llu records could not be written before exit",
               (unsigned long long)(atomic_load(&l->dropped_sink) - before));
    }
    return NULL;
}

int vd_dlog_set_policy(vd_dlog_t *l, const char *packed, size_t n) {
    char *copy = l ? malloc(n ? n : 1) : NULL;
    if (!copy) return l ? VD_ENOMEM : 0;
    memcpy(copy, packed, n);
    pthread_mutex_lock(&l->policy_lock);
    free(l->policy);
    l->policy = copy;
    l->policy_len = n;
    l->policy_serial++;
    pthread_mutex_unlock(&l->policy_lock);
    return 0;
}

int vd_dlog_start(vd_dlog_t **out, const vd_dlog_config_t *cfg, char *err, size_t errlen) {
    vd_dlog_t *l = calloc(1, sizeof *l);
    if (!l) return VD_ENOMEM;
    l->cfg = *cfg;
    pthread_mutex_init(&l->policy_lock, NULL);
    msgpack_sbuffer_init(&l->manifest);
    l->sink.fd = -1;
    msgpack_sbuffer_init(&l->out);
    l->cfg.nrings = 0;
    /* aligned: each ring's counters are on cache lines of their own */
    size_t lanes = (size_t)cfg->nrings * sizeof *l->lanes;
    if (!(l->lanes = aligned_alloc(alignof(vd_dlog_lane_t), lanes))) {
        vd_dlog_stop(l, 0);
        return VD_ENOMEM;
    }
    memset(l->lanes, 0, lanes);
    for (; l->cfg.nrings < cfg->nrings; l->cfg.nrings++)
        if (vd_dlog_ring_init(&l->lanes[l->cfg.nrings].ring, cfg->ring_bytes) != 0) {
            vd_dlog_stop(l, 0);
            return VD_ENOMEM;
        }
    if (vd_dlog_sink_open(&l->sink, &cfg->sink) != 0) {
        snprintf(err, errlen, "decision log: %s", l->sink.error);
        vd_dlog_stop(l, 0);
        return VD_EIO;
    }
    report_error(l); /* a torn tail that was cut */
    if (pthread_create(&l->thread, NULL, writer, l) != 0) {
        snprintf(err, errlen, "decision log: cannot start its writer thread");
        vd_dlog_stop(l, 0);
        return VD_ENOMEM;
    }
    l->started = 1;
    *out = l;
    return 0;
}

vd_dlog_lane_t *vd_dlog_lane(vd_dlog_t *l, int i) {
    return l && i < l->cfg.nrings ? &l->lanes[i] : NULL;
}

int vd_dlog_submit(vd_dlog_lane_t *lane, const void *rec, size_t n) {
    if (!rec || vd_dlog_ring_put(&lane->ring, rec, n) != 0) {
        vd_counter_add(&lane->dropped, 1);
        return -1;
    }
    vd_counter_add(&lane->submitted, 1);
    return 0;
}

char *vd_dlog_reserve(vd_dlog_lane_t *lane, size_t most) {
    return vd_dlog_ring_reserve(&lane->ring, most);
}

void vd_dlog_commit(vd_dlog_lane_t *lane, size_t n) {
    if (vd_dlog_ring_commit(&lane->ring, n) == 0)
        vd_counter_add(&lane->submitted, 1);
    else
        vd_counter_add(&lane->dropped, 1); /* no reservation open: nothing was queued */
}

void vd_dlog_reopen(vd_dlog_t *l) {
    if (l) atomic_store(&l->reopen, 1);
}

void vd_dlog_stats(vd_dlog_t *l, vd_dlog_stats_t *st) {
    memset(st, 0, sizeof *st);
    if (!l) return;
    for (int i = 0; i < l->cfg.nrings; i++)
        st->dropped_full += vd_counter_get(&l->lanes[i].dropped);
    st->records = atomic_load(&l->records);
    st->dropped_sink = atomic_load(&l->dropped_sink);
    st->bytes = atomic_load(&l->bytes);
    st->rotations = atomic_load(&l->rotations);
    st->reopens = atomic_load(&l->reopens);
    st->write_errors = atomic_load(&l->write_errors);
    st->buffered = atomic_load(&l->buffered);
    st->manifests = atomic_load(&l->manifests);
}

void vd_dlog_stop(vd_dlog_t *l, int wait_ms) {
    if (!l) return;
    if (l->started) {
        l->stop_deadline_ns = mono_ns() + (int64_t)wait_ms * 1000000;
        atomic_store(&l->stop, 1);
        pthread_join(l->thread, NULL);
    }
    vd_dlog_sink_close(&l->sink);
    for (int i = 0; i < l->cfg.nrings; i++)
        vd_dlog_ring_free(&l->lanes[i].ring);
    free(l->lanes);
    msgpack_sbuffer_destroy(&l->out);
    msgpack_sbuffer_destroy(&l->manifest);
    pthread_mutex_destroy(&l->policy_lock);
    free(l->policy);
    free(l);
}

void vd_dlog_crashing(vd_dlog_t *l) {
    if (!l) return;
    atomic_store(&l->crashing, 1);
    struct timespec tick = {0, 1000000};
    for (int i = 0; i < 200 && atomic_load(&l->writing); i++)
        nanosleep(&tick, NULL);
    if (!atomic_load(&l->writing)) vd_dlog_sink_crash_flush(&l->sink); /* the staged lines */
}
