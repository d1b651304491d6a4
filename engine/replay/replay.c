#include "replay.h"

#include "base/clock.h"
#include "base/error.h"
#include "decision/recorded.h"
#include "learn.h"
#include "state/campaign.h"
#include "state/snapshot_read.h"
#include "state/store.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Lines travel in batches. A worker thread takes the next BATCH lines of input (under the
 * input lock, so batches are numbered in input order), parses them and decides them as far as
 * it may: a decision that needs the replay's own state (a read the record cannot answer, a
 * label written) is marked, not kept. The calling thread takes the batches in number order,
 * makes the marked decisions again with the state, in input order, and hands every decision
 * on. The state thus evolves in input order, whatever the threads do: the same input and
 * policy give the same output. */
#define BATCH       256
#define MAX_THREADS 64

typedef struct side_out {
    int again;             /* decided with the state, by the calling thread */
    int rc;                /* 0, or the decision failed: error says why */
    msgpack_sbuffer mp;    /* the result map (decision_pack's), when rc is 0 */
    msgpack_sbuffer learn; /* what its reads answered from the record would have taught */
    char error[512];
    msgpack_object obj; /* decoded by the calling thread */
} side_out_t;

typedef struct slot {
    vd_replay_rec_t rec;
    msgpack_sbuffer mp;
    msgpack_zone zone;
    long line;
    const char *file;
    int ok; /* vd_replay_rec_read's answer: 0 a decision, 1 a line to pass over, -1 an error */
    char err[200];
    side_out_t after, before;
} slot_t;

typedef struct batch {
    long seq;
    size_t n;
    int done;
    char *lines[BATCH]; /* getline buffers, kept */
    size_t caps[BATCH], lens[BATCH];
    slot_t slots[BATCH];
} batch_t;

/* A policy's executor, per thread. */
#define CAMPAIGN_BYTES ((size_t)64 << 20) /* as the daemon's default */

typedef struct deciders {
    vd_executor_t *after, *before; /* before: NULL when comparing with the records */
} deciders_t;

typedef struct shared {
    const vd_replay_config_t *cfg;
    vd_store_t *store, *base_store;
    vd_campaigns_t *campaigns, *base_campaigns; /* verdict.campaign's, as the stores */
    pthread_mutex_t lock;
    pthread_cond_t changed;
    /* Input, read under lock. */
    const char *const *files;
    size_t nfiles, file_i;
    FILE *in;
    char *inbuf; /* in's buffer: a large one, so that a big log is read in few calls */
    long line;
    int eof, failed_open;
    char err[512];
    /* Batches: free ones, and the ones done, by seq % nbatches, for the calling thread. */
    batch_t **all, **pool; /* every batch; the free ones */
    size_t nbatches, nfree;
    batch_t **ready;
    long next_seq;
    int stop;
    int speculate; /* workers decide too (the records answer the state) */
} shared_t;

#define INBUF_BYTES ((size_t)1 << 20)

typedef struct worker {
    shared_t *s;
    deciders_t d;
    pthread_t thread;
} worker_t;

/* Opens the next file when the current one is done. Under lock. 0, or -1 at the end of input
 * or when a file cannot be opened (err). */
static int next_input(shared_t *s) {
    while (!s->in) {
        if (s->file_i >= s->nfiles) return -1;
        const char *path = s->files[s->file_i++];
        s->line = 0;
        s->in = strcmp(path, "-") == 0 ? stdin : fopen(path, "r");
        if (!s->in) {
            snprintf(s->err, sizeof s->err, "cannot open %s: %s", path, strerror(errno));
            s->failed_open = 1;
            return -1;
        }
        if (s->in != stdin && s->inbuf) { /* stdin is not ours: it keeps its own buffer */
            setvbuf(s->in, s->inbuf, _IOFBF, INBUF_BYTES);
            posix_fadvise(fileno(s->in), 0, 0, POSIX_FADV_SEQUENTIAL);
        }
    }
    return 0;
}

/* Reads up to BATCH lines into b. Under lock. */
static void fill(shared_t *s, batch_t *b) {
    b->n = 0;
    while (b->n < BATCH && !s->eof && !s->failed_open) {
        if (next_input(s) != 0) {
            s->eof = 1;
            break;
        }
        errno = 0;
        ssize_t len = getline(&b->lines[b->n], &b->caps[b->n], s->in);
        if (len < 0) {
            if (ferror(s->in)) { /* a directory (EISDIR), an I/O error: not an empty file */
                snprintf(s->err, sizeof s->err, "cannot read %s: %s", s->files[s->file_i - 1],
                         strerror(errno ? errno : EIO));
                s->failed_open = 1;
            }
            if (s->in != stdin) fclose(s->in);
            s->in = NULL;
            continue;
        }
        s->line++;
        while (len > 0 && (b->lines[b->n][len - 1] == '\n' || b->lines[b->n][len - 1] == '\r'))
            len--;
        if (len == 0) continue; /* blank lines are allowed */
        b->lens[b->n] = (size_t)len;
        b->slots[b->n].line = s->line;
        b->slots[b->n].file = s->files[s->file_i - 1];
        b->n++;
    }
}

/* One side of a record's decision, on x. With the state forbidden, a decision that needed it
 * is marked to be made again. */
static void decide(vd_executor_t *x, const vd_replay_config_t *cfg, const vd_replay_rec_t *rec,
                   int forbid_state, side_out_t *out) {
    unsigned char used_small[64], *used = used_small;
    out->again = 0;
    out->rc = 0;
    out->mp.size = 0;
    out->learn.size = 0;
    if (rec->nobserved > sizeof used_small && !(used = calloc(rec->nobserved, 1))) {
        out->rc = VD_ENOMEM;
        snprintf(out->error, sizeof out->error, "out of memory");
        return;
    }
    memset(used, 0, rec->nobserved > sizeof used_small ? rec->nobserved : sizeof used_small);
    vd_recorded_t recorded = {.items = rec->observed,
                              .n = rec->nobserved,
                              .used = used,
                              .state = cfg->reuse_state,
                              .plugins = cfg->reuse_plugins,
                              .store_forbidden = forbid_state,
                              .learn = &out->learn};
    vd_run_opts_t opts = {.now_s = rec->time_ms / 1000, .recorded = &recorded};
    vd_result_t res;
    out->rc = vd_executor_run(x, rec->pipeline, rec->event, &opts, &res);
    if (used != used_small) free(used);
    if (recorded.missed) {
        out->again = 1;
        return;
    }
    if (out->rc)
        snprintf(out->error, sizeof out->error, "%s", res.error);
    else
        vd_result_pack(&out->mp, &res);
}

/* A worker's part of a batch: parsing, and deciding what needs no state of the replay's. */
static void work(shared_t *s, deciders_t *d, batch_t *b) {
    for (size_t i = 0; i < b->n; i++) {
        slot_t *sl = &b->slots[i];
        sl->ok = vd_replay_rec_read(&sl->rec, b->lines[i], b->lens[i], sl->line, &s->cfg->input,
                                    &sl->mp, &sl->zone, sl->err, sizeof sl->err);
        sl->after.again = sl->before.again = 1;
        if (sl->ok != 0 || !s->speculate) continue;
        decide(d->after, s->cfg, &sl->rec, 1, &sl->after);
        if (d->before) decide(d->before, s->cfg, &sl->rec, 1, &sl->before);
    }
}

static void *worker_main(void *arg) {
    worker_t *w = arg;
    shared_t *s = w->s;
    pthread_mutex_lock(&s->lock);
    for (;;) {
        while (!s->stop && !s->eof && !s->failed_open && s->nfree == 0)
            pthread_cond_wait(&s->changed, &s->lock);
        if (s->stop || s->eof || s->failed_open) break;
        batch_t *b = s->pool[--s->nfree];
        fill(s, b);
        b->seq = s->next_seq++;
        b->done = 0;
        pthread_mutex_unlock(&s->lock);
        work(s, &w->d, b);
        pthread_mutex_lock(&s->lock);
        b->done = 1;
        s->ready[b->seq % (long)s->nbatches] = b;
        pthread_cond_broadcast(&s->changed);
    }
    pthread_cond_broadcast(&s->changed);
    pthread_mutex_unlock(&s->lock);
    return NULL;
}

static void free_batches(shared_t *s) {
    for (size_t i = 0; s->all && i < s->nbatches; i++) {
        batch_t *b = s->all[i];
        if (!b) continue;
        for (size_t k = 0; k < BATCH; k++) {
            slot_t *sl = &b->slots[k];
            free(b->lines[k]);
            msgpack_sbuffer_destroy(&sl->mp);
            msgpack_sbuffer_destroy(&sl->after.mp);
            msgpack_sbuffer_destroy(&sl->before.mp);
            msgpack_sbuffer_destroy(&sl->after.learn);
            msgpack_sbuffer_destroy(&sl->before.learn);
            msgpack_zone_destroy(&sl->zone);
        }
        free(b);
    }
    free(s->all);
    free(s->pool);
    free(s->ready);
}

static int make_batches(shared_t *s, size_t n) {
    s->all = calloc(n, sizeof *s->all);
    s->pool = calloc(n, sizeof *s->pool);
    s->ready = calloc(n, sizeof *s->ready);
    if (!s->all || !s->pool || !s->ready) return VD_ENOMEM;
    s->nbatches = n;
    for (size_t i = 0; i < n; i++) {
        batch_t *b = calloc(1, sizeof *b);
        if (!b) return VD_ENOMEM;
        s->all[i] = s->pool[i] = b;
        for (size_t k = 0; k < BATCH; k++) {
            slot_t *sl = &b->slots[k];
            msgpack_sbuffer_init(&sl->mp);
            msgpack_sbuffer_init(&sl->after.mp);
            msgpack_sbuffer_init(&sl->before.mp);
            msgpack_sbuffer_init(&sl->after.learn);
            msgpack_sbuffer_init(&sl->before.learn);
            if (!msgpack_zone_init(&sl->zone, 4096)) return VD_ENOMEM;
        }
    }
    s->nfree = n;
    return 0;
}

static int open_store(const vd_replay_config_t *cfg, vd_store_t **store, char *err, size_t errlen) {
    *store = vd_store_new(cfg->state_bytes ? cfg->state_bytes : (size_t)256 << 20);
    if (!*store) return snprintf(err, errlen, "out of memory"), VD_ENOMEM;
    if (!cfg->snapshot) return 0;
    vd_state_snapshot_info_t info;
    /* Entries are kept whatever their age: the replay's clock is the events'. */
    return vd_state_snapshot_read(*store, NULL, cfg->snapshot, 0, &info, err, errlen);
}

static int open_deciders(shared_t *s, deciders_t *d, char *err, size_t errlen) {
    const vd_replay_config_t *cfg = s->cfg;
    vd_offline_config_t oc = {.policy_dir = cfg->policy_dir,
                              .data_dir = cfg->data_dir,
                              .plugin_dirs = cfg->plugin_dirs,
                              .nplugin_dirs = cfg->nplugin_dirs,
                              .store = s->store,
                              .campaigns = s->campaigns};
    int rc = vd_executor_open(&d->after, &oc, err, errlen);
    if (rc == 0 && cfg->baseline_dir) {
        oc.policy_dir = cfg->baseline_dir;
        oc.store = s->base_store;
        oc.campaigns = s->base_campaigns;
        rc = vd_executor_open(&d->before, &oc, err, errlen);
    }
    return rc;
}

static void close_deciders(deciders_t *d) {
    vd_executor_free(d->after);
    vd_executor_free(d->before);
}

/* The calling thread's part of one side of a decision: made again with the state if it needed
 * it; then, in input order, what its reads answered from the record would have taught that
 * state (learn.h); then decoded for the caller. */
static int finish_side(shared_t *s, vd_executor_t *x, vd_store_t *store, slot_t *sl,
                       side_out_t *side) {
    if (side->again) decide(x, s->cfg, &sl->rec, 0, side);
    if (side->learn.size) vd_replay_learn(store, side->learn.data, side->learn.size);
    if (side->rc) return side->rc;
    size_t off = 0;
    if (msgpack_unpack(side->mp.data, side->mp.size, &off, &sl->zone, &side->obj) !=
        MSGPACK_UNPACK_SUCCESS) {
        snprintf(side->error, sizeof side->error, "out of memory");
        return side->rc = VD_ENOMEM;
    }
    return 0;
}

/* Hands on the decisions of batch b, in order. Returns 0 or what fn returned. */
static int deliver(shared_t *s, deciders_t *d, batch_t *b, vd_replay_fn fn, void *ud,
                   vd_replay_stats_t *stats) {
    for (size_t i = 0; i < b->n; i++) {
        slot_t *sl = &b->slots[i];
        stats->lines++;
        if (sl->ok == 1) continue;
        if (sl->ok != 0) {
            fprintf(stderr, "verdict replay: %s:%ld: %s; skipped\n", sl->file, sl->line, sl->err);
            stats->skipped++;
            continue;
        }
        stats->again += sl->after.again && s->speculate;
        /* Both sides, whatever the other did: a failure of one must not keep the other's state
         * from what this record taught it. */
        int rc = finish_side(s, d->after, s->store, sl, &sl->after);
        int rb = d->before ? finish_side(s, d->before, s->base_store, sl, &sl->before) : 0;
        if (!rc) rc = rb;
        if (rc) {
            fprintf(stderr, "verdict replay: %s:%ld: %s\n", sl->file, sl->line,
                    sl->after.rc ? sl->after.error : sl->before.error);
            stats->failed++;
            continue;
        }
        vd_replay_out_t out = {&sl->rec, sl->file, sl->line, d->before ? &sl->before.obj : NULL,
                               &sl->after.obj};
        stats->replayed++;
        if ((rc = fn(ud, &out)) != 0) return rc;
    }
    return 0;
}

int vd_replay_run(const vd_replay_config_t *cfg, const char *const *files, size_t nfiles,
                  vd_replay_fn fn, void *ud, vd_replay_stats_t *stats, char *err, size_t errlen) {
    memset(stats, 0, sizeof *stats);
    int64_t t0 = vd_now_ns();
    shared_t s = {.cfg = cfg, .files = files, .nfiles = nfiles, .speculate = cfg->reuse_state};
    s.inbuf = malloc(INBUF_BYTES); /* without it, stdio's own buffer (4 KiB) */
    int nthreads = cfg->threads;
    if (nthreads <= 0) nthreads = (int)sysconf(_SC_NPROCESSORS_ONLN);
    if (nthreads < 1) nthreads = 1;
    if (nthreads > MAX_THREADS) nthreads = MAX_THREADS;
    worker_t workers[MAX_THREADS] = {0};
    deciders_t mine = {0};
    int started = 0;
    pthread_mutex_init(&s.lock, NULL);
    pthread_cond_init(&s.changed, NULL);
    int rc = open_store(cfg, &s.store, err, errlen);
    if (rc == 0 && cfg->baseline_dir) rc = open_store(cfg, &s.base_store, err, errlen);
    if (rc == 0 &&
        (!(s.campaigns = vd_campaigns_new(CAMPAIGN_BYTES)) ||
         (cfg->baseline_dir && !(s.base_campaigns = vd_campaigns_new(CAMPAIGN_BYTES))))) {
        snprintf(err, errlen, "out of memory");
        rc = VD_ENOMEM;
    }
    if (rc == 0) rc = open_deciders(&s, &mine, err, errlen);
    for (int i = 0; rc == 0 && i < nthreads && s.speculate; i++)
        rc = open_deciders(&s, &workers[i].d, err, errlen);
    if (rc == 0 && (rc = make_batches(&s, (size_t)nthreads * 2 + 2)) != 0)
        snprintf(err, errlen, "out of memory");
    for (; rc == 0 && started < nthreads; started++) {
        workers[started].s = &s;
        if (pthread_create(&workers[started].thread, NULL, worker_main, &workers[started]) != 0)
            break;
    }
    for (long seq = 0; rc == 0; seq++) {
        pthread_mutex_lock(&s.lock);
        batch_t *b;
        while (!((b = s.ready[seq % (long)s.nbatches]) && b->seq == seq && b->done) &&
               !((s.eof || s.failed_open) && s.next_seq <= seq))
            pthread_cond_wait(&s.changed, &s.lock);
        if (!(b && b->seq == seq && b->done)) { /* the input has ended */
            if (s.failed_open) {
                snprintf(err, errlen, "%s", s.err);
                rc = VD_EIO;
            }
            pthread_mutex_unlock(&s.lock);
            break;
        }
        s.ready[seq % (long)s.nbatches] = NULL;
        pthread_mutex_unlock(&s.lock);
        rc = deliver(&s, &mine, b, fn, ud, stats);
        pthread_mutex_lock(&s.lock);
        s.pool[s.nfree++] = b;
        pthread_cond_broadcast(&s.changed);
        pthread_mutex_unlock(&s.lock);
    }
    pthread_mutex_lock(&s.lock);
    s.stop = 1;
    pthread_cond_broadcast(&s.changed);
    pthread_mutex_unlock(&s.lock);
    for (int i = 0; i < started; i++)
        pthread_join(workers[i].thread, NULL);
    for (int i = 0; i < nthreads; i++)
        close_deciders(&workers[i].d);
    close_deciders(&mine);
    if (s.in && s.in != stdin) fclose(s.in);
    free(s.inbuf);
    free_batches(&s);
    pthread_mutex_destroy(&s.lock);
    pthread_cond_destroy(&s.changed);
    vd_store_free(s.store);
    vd_store_free(s.base_store);
    vd_campaigns_free(s.campaigns);
    vd_campaigns_free(s.base_campaigns);
    stats->seconds = (double)(vd_now_ns() - t0) / 1e9;
    return rc;
}
