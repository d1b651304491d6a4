#include "replay.h"

#include "base/clock.h"
#include "base/error.h"
#include "decision/recorded.h"
#include "state/snapshot_read.h"
#include "state/store.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Lines travel in batches: a parsing thread takes the next BATCH lines of input (under the
 * input lock, so batches are numbered in input order), parses them, and the deciding thread
 * takes the batches in number order. */
#define BATCH 256

typedef struct slot {
    vd_replay_rec_t rec;
    msgpack_sbuffer mp;
    msgpack_zone zone;
    long line;
    const char *file;
    int ok; /* vd_replay_rec_read's answer: 0 a decision, 1 a line to pass over, -1 an error */
    char err[200];
} slot_t;

typedef struct batch {
    long seq;
    size_t n;
    int parsed;
    char *lines[BATCH]; /* getline buffers, kept */
    size_t caps[BATCH], lens[BATCH];
    slot_t slots[BATCH];
} batch_t;

typedef struct shared {
    pthread_mutex_t lock;
    pthread_cond_t changed;
    /* Input, read under lock. */
    const char *const *files;
    size_t nfiles, file_i;
    FILE *in;
    long line;
    int eof, failed_open;
    char err[512];
    /* Batches: free ones, and parsed ones waiting for the decider. */
    batch_t **pool;
    size_t npool, nfree;
    batch_t **ready; /* by seq % nready */
    size_t nready;
    long next_seq;
    int stop;
    const vd_replay_input_t *input;
} shared_t;

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
        ssize_t len = getline(&b->lines[b->n], &b->caps[b->n], s->in);
        if (len < 0) {
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

static void parse(shared_t *s, batch_t *b) {
    for (size_t i = 0; i < b->n; i++) {
        slot_t *sl = &b->slots[i];
        sl->ok = vd_replay_rec_read(&sl->rec, b->lines[i], b->lens[i], sl->line, s->input,
                                    &sl->mp, &sl->zone, sl->err, sizeof sl->err);
    }
}

static void *parser(void *arg) {
    shared_t *s = arg;
    pthread_mutex_lock(&s->lock);
    for (;;) {
        while (!s->stop && !s->eof && !s->failed_open && s->nfree == 0)
            pthread_cond_wait(&s->changed, &s->lock);
        if (s->stop || s->eof || s->failed_open) break;
        batch_t *b = s->pool[--s->nfree];
        fill(s, b);
        b->seq = s->next_seq++;
        b->parsed = 0;
        pthread_mutex_unlock(&s->lock);
        parse(s, b);
        pthread_mutex_lock(&s->lock);
        b->parsed = 1;
        s->ready[b->seq % (long)s->nready] = b;
        pthread_cond_broadcast(&s->changed);
    }
    pthread_cond_broadcast(&s->changed);
    pthread_mutex_unlock(&s->lock);
    return NULL;
}

static void free_batches(shared_t *s) {
    for (size_t i = 0; i < s->npool; i++) {
        batch_t *b = s->pool[i];
        for (size_t k = 0; k < BATCH; k++) {
            free(b->lines[k]);
            msgpack_sbuffer_destroy(&b->slots[k].mp);
            msgpack_zone_destroy(&b->slots[k].zone);
        }
        free(b);
    }
}

static int make_batches(shared_t *s, size_t n) {
    s->pool = calloc(n, sizeof *s->pool);
    s->ready = calloc(n, sizeof *s->ready);
    if (!s->pool || !s->ready) return VD_ENOMEM;
    for (size_t i = 0; i < n; i++) {
        batch_t *b = calloc(1, sizeof *b);
        if (!b) return VD_ENOMEM;
        s->pool[s->npool++] = b;
        for (size_t k = 0; k < BATCH; k++) {
            msgpack_sbuffer_init(&b->slots[k].mp);
            if (!msgpack_zone_init(&b->slots[k].zone, 4096)) return VD_ENOMEM;
        }
    }
    s->nfree = s->npool;
    s->nready = n;
    return 0;
}

/* A policy's executor with its own state, from the snapshot when one is given. */
static int open_policy(const vd_replay_config_t *cfg, const char *dir, vd_store_t **store,
                       vd_executor_t **x, char *err, size_t errlen) {
    *store = vd_store_new(cfg->state_bytes ? cfg->state_bytes : (size_t)256 << 20);
    if (!*store) return snprintf(err, errlen, "out of memory"), VD_ENOMEM;
    if (cfg->snapshot) {
        vd_state_snapshot_info_t info;
        /* Entries are kept whatever their age: the replay's clock is the events'. */
        int rc = vd_state_snapshot_read(*store, cfg->snapshot, 0, &info, err, errlen);
        if (rc) return rc;
    }
    vd_offline_config_t oc = {.policy_dir = dir,
                              .data_dir = cfg->data_dir,
                              .plugin_dirs = cfg->plugin_dirs,
                              .nplugin_dirs = cfg->nplugin_dirs,
                              .store = *store};
    return vd_executor_open(x, &oc, err, errlen);
}

/* Runs one record through x, answering from the record what it observed (as configured). */
static int decide(vd_executor_t *x, const vd_replay_config_t *cfg, const vd_replay_rec_t *rec,
                  vd_result_t *res) {
    unsigned char used_small[64], *used = used_small;
    if (rec->nobserved > sizeof used_small && !(used = calloc(rec->nobserved, 1))) return VD_ENOMEM;
    memset(used, 0, rec->nobserved < sizeof used_small ? sizeof used_small : rec->nobserved);
    vd_recorded_t recorded = {.items = rec->observed,
                              .n = rec->nobserved,
                              .used = used,
                              .state = cfg->reuse_state,
                              .plugins = cfg->reuse_plugins};
    vd_run_opts_t opts = {
        .now_s = rec->time_ms / 1000,
        .observe = 1,
        .recorded = rec->nobserved && (recorded.state || recorded.plugins) ? &recorded : NULL};
    int rc = vd_executor_run(x, rec->pipeline, rec->event, &opts, res);
    if (used != used_small) free(used);
    return rc;
}

int vd_replay_run(const vd_replay_config_t *cfg, const char *const *files, size_t nfiles,
                  vd_replay_fn fn, void *ud, vd_replay_stats_t *stats, char *err, size_t errlen) {
    memset(stats, 0, sizeof *stats);
    int64_t t0 = vd_now_ns();
    vd_store_t *store = NULL, *base_store = NULL;
    vd_executor_t *x = NULL, *base = NULL;
    int rc = open_policy(cfg, cfg->policy_dir, &store, &x, err, errlen);
    if (rc == 0 && cfg->baseline_dir)
        rc = open_policy(cfg, cfg->baseline_dir, &base_store, &base, err, errlen);
    shared_t s = {.files = files, .nfiles = nfiles, .input = &cfg->input};
    int nthreads = cfg->threads;
    if (nthreads <= 0) {
        long cpus = sysconf(_SC_NPROCESSORS_ONLN);
        nthreads = cpus > 1 ? (int)cpus - 1 : 1;
    }
    pthread_t threads[64];
    if (nthreads > 64) nthreads = 64;
    int started = 0;
    pthread_mutex_init(&s.lock, NULL);
    pthread_cond_init(&s.changed, NULL);
    if (rc == 0 && (rc = make_batches(&s, (size_t)nthreads * 2 + 2)) != 0)
        snprintf(err, errlen, "out of memory");
    for (; rc == 0 && started < nthreads; started++)
        if (pthread_create(&threads[started], NULL, parser, &s) != 0) break;
    vd_result_t before, after;
    for (long seq = 0; rc == 0; seq++) {
        pthread_mutex_lock(&s.lock);
        batch_t *b;
        while (!((b = s.ready[seq % (long)s.nready]) && b->seq == seq && b->parsed) &&
               !((s.eof || s.failed_open) && s.next_seq <= seq))
            pthread_cond_wait(&s.changed, &s.lock);
        if (!(b && b->seq == seq && b->parsed)) { /* the input has ended */
            if (s.failed_open) {
                snprintf(err, errlen, "%s", s.err);
                rc = VD_EIO;
            }
            pthread_mutex_unlock(&s.lock);
            break;
        }
        s.ready[seq % (long)s.nready] = NULL;
        pthread_mutex_unlock(&s.lock);
        for (size_t i = 0; rc == 0 && i < b->n; i++) {
            slot_t *sl = &b->slots[i];
            stats->lines++;
            if (sl->ok == 1) continue;
            if (sl->ok != 0) {
                fprintf(stderr, "verdict replay: %s:%ld: %s; skipped\n", sl->file, sl->line,
                        sl->err);
                stats->skipped++;
                continue;
            }
            int arc = decide(x, cfg, &sl->rec, &after);
            int brc = base ? decide(base, cfg, &sl->rec, &before) : 0;
            if (arc || brc) {
                fprintf(stderr, "verdict replay: %s:%ld: %s\n", sl->file, sl->line,
                        arc ? after.error : before.error);
                stats->failed++;
                continue;
            }
            vd_replay_out_t out = {&sl->rec, sl->file, sl->line, base ? &before : NULL, &after};
            stats->replayed++;
            rc = fn(ud, &out);
        }
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
        pthread_join(threads[i], NULL);
    if (s.in && s.in != stdin) fclose(s.in);
    free_batches(&s);
    free(s.pool);
    free(s.ready);
    pthread_mutex_destroy(&s.lock);
    pthread_cond_destroy(&s.changed);
    vd_executor_free(x);
    vd_executor_free(base);
    vd_store_free(store);
    vd_store_free(base_store);
    stats->seconds = (double)(vd_now_ns() - t0) / 1e9;
    return rc;
}
