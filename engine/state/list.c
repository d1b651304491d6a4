#include "list.h"

#include "base/clock.h"

#include "base/error.h"
#include "base/log.h"
#include "prefix_table.h"
#include "string_set.h"

#include <xxhash.h>

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define MAX_LINE_ERRORS_LOGGED 10

typedef struct entry {
    uint32_t off, len, voff, vlen; /* entry and value, offsets into the version's text */
} entry_t;

struct vd_list_data {
    _Atomic int refs;
    vd_list_kind_t kind;
    char *text; /* the file's bytes; domains are lower-cased in place */
    entry_t *entries;
    size_t n;
    vd_prefix_table_t ip;
    vd_string_t *strings;
    vd_string_set_t set;
    uint64_t label_counts; /* domains: bit k set when some entry has k labels (63: more) */
    size_t bytes;
    uint64_t skipped;
    double load_seconds;
    uint64_t hash; /* XXH3-64 of the file as read: what the decision log names it by */
};

/* Bumped whenever any list takes a new version: decisions log it, so that a record says which
 * list contents decided it (docs/decision-log.md, manifests). */
static _Atomic uint64_t generation = 1;

uint64_t vd_lists_generation(void) {
    return atomic_load_explicit(&generation, memory_order_relaxed);
}

/* The file identity a version was built from. */
typedef struct file_id {
    dev_t dev;
    ino_t ino;
    off_t size;
    struct timespec mtime;
} file_id_t;

struct vd_list {
    struct vd_list_head head; /* first: the inline refresh reads it through the list pointer */
    char *path;
    vd_list_kind_t kind;
    int skip_bad;
    int refs;             /* readers; under the registry lock */
    pthread_mutex_t lock; /* guards current and its version */
    vd_list_data_t *current;
    file_id_t loaded, candidate; /* candidate: a change seen once, built when seen again */
    int has_candidate, building;
    /* The file as it was when a new version of it was refused: it is not read again (nor
     * reported again) until it changes; error says why it was refused, under lock. */
    file_id_t refused;
    int has_refused;
    char error[512];
    _Atomic uint64_t reloads, errors;
    vd_list_t *next;
};

static pthread_mutex_t registry_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_mutex_t load_lock = PTHREAD_MUTEX_INITIALIZER;
static vd_list_t *registry;

static const char *const kind_names[] = {"ip", "domain", "exact"};

int vd_list_kind_parse(const char *name) {
    for (int k = 0; k < 3; k++)
        if (strcmp(name, kind_names[k]) == 0) return k;
    return -1;
}

const char *vd_list_kind_name(vd_list_kind_t kind) {
    return kind_names[kind];
}

/* ---- versions ---- */

static void data_release(vd_list_data_t *d) {
    if (!d || atomic_fetch_sub(&d->refs, 1) != 1) return;
    vd_prefix_table_free(&d->ip);
    vd_string_set_free(&d->set);
    free(d->strings);
    free(d->entries);
    free(d->text);
    free(d);
}

static double seconds_since(int64_t t0) {
    return (double)(vd_now_ns() - t0) / 1e9;
}

/* ---- parsing ---- */

static int is_space(char c) {
    return c == ' ' || c == '\t' || c == '\r' || c == '\v' || c == '\f';
}

/* Lower-cases a domain in place and trims "*." / "." in front and "." behind; 0 when it is not
 * a domain name (letters, digits, '-', '_', UTF-8 bytes; no empty labels; at most 253). */
static int normalise_domain(char *s, uint32_t *off, uint32_t *len) {
    char *p = s + *off;
    uint32_t n = *len;
    if (n >= 2 && p[0] == '*' && p[1] == '.') p += 2, n -= 2;
    if (n && p[0] == '.') p++, n--;
    if (n && p[n - 1] == '.') n--;
    if (n == 0 || n > 253) return 0;
    for (uint32_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)p[i];
        if (c == '.') {
            if (i == 0 || p[i - 1] == '.') return 0;
        } else if (!(isalnum(c) || c == '-' || c == '_' || c >= 0x80)) {
            return 0;
        }
        p[i] = (char)tolower(c);
    }
    *off = (uint32_t)(p - s);
    *len = n;
    return 1;
}

typedef struct parse {
    const char *path;
    int skip_bad;
    char *err;
    size_t errlen;
    vd_prefix_t *prefixes; /* IP lists, while parsing */
} parse_t;

/* A line that cannot be an entry: fails the load, or is logged and skipped. */
static int bad_line(parse_t *ps, vd_list_data_t *d, size_t line, const char *why, const char *tok,
                    size_t toklen) {
    char msg[512];
    snprintf(msg, sizeof msg, "%s:%zu: %s: '%.*s'", ps->path, line, why,
             (int)(toklen > 80 ? 80 : toklen), tok);
    if (!ps->skip_bad) {
        snprintf(ps->err, ps->errlen, "%s", msg);
        return VD_EINVAL;
    }
    if (d->skipped++ < MAX_LINE_ERRORS_LOGGED) vd_log(VD_LOG_WARN, "list %s (skipped)", msg);
    return 0;
}

/* Splits text into entries: "entry [value]" per line, '#' starts a comment at the beginning of
 * a word. */
static int parse_lines(parse_t *ps, vd_list_data_t *d, size_t len) {
    char *t = d->text;
    size_t cap = 1024, line = 0;
    if (!(d->entries = malloc(cap * sizeof *d->entries))) return VD_ENOMEM;
    for (size_t p = 0; p < len;) {
        line++;
        char *nl = memchr(t + p, '\n', len - p);
        size_t e = nl ? (size_t)(nl - t) : len, a = p;
        p = e + 1;
        for (size_t i = a; i < e; i++) /* cut the comment */
            if (t[i] == '#' && (i == a || is_space(t[i - 1]))) {
                e = i;
                break;
            }
        while (a < e && is_space(t[a]))
            a++;
        while (e > a && is_space(t[e - 1]))
            e--;
        if (a == e) continue;
        size_t w = a;
        while (w < e && !is_space(t[w]))
            w++;
        size_t v = w;
        while (v < e && is_space(t[v]))
            v++;
        if (e - a > UINT32_MAX / 2 || e > UINT32_MAX) {
            snprintf(ps->err, ps->errlen, "%s:%zu: line too long", ps->path, line);
            return VD_EINVAL;
        }
        entry_t en = {(uint32_t)a, (uint32_t)(w - a), (uint32_t)v, (uint32_t)(e - v)};
        if (d->kind == VD_LIST_DOMAIN && !normalise_domain(t, &en.off, &en.len)) {
            int rc = bad_line(ps, d, line, "not a domain name", t + a, w - a);
            if (rc) return rc;
            continue;
        }
        if (d->kind == VD_LIST_IP) {
            vd_prefix_t px = {.id = (uint32_t)d->n};
            if (vd_cidr_parse(t + a, w - a, &px.cidr) != 0) {
                int rc = bad_line(ps, d, line, "not an IP address or CIDR prefix", t + a, w - a);
                if (rc) return rc;
                continue;
            }
            if (d->n == cap || !ps->prefixes) {
                vd_prefix_t *np = realloc(ps->prefixes, cap * 2 * sizeof *np);
                if (!np) return VD_ENOMEM;
                ps->prefixes = np;
            }
            ps->prefixes[d->n] = px;
        }
        if (d->n == cap) {
            entry_t *ne = realloc(d->entries, cap * 2 * sizeof *ne);
            if (!ne) return VD_ENOMEM;
            d->entries = ne;
            cap *= 2;
        }
        if (d->n == UINT32_MAX - 1) {
            snprintf(ps->err, ps->errlen, "%s:%zu: too many entries", ps->path, line);
            return VD_EINVAL;
        }
        d->entries[d->n++] = en;
    }
    return 0;
}

/* The label_counts bit of a domain: its number of labels, 63 for 63 or more. */
static size_t labels(const char *s, size_t len) {
    size_t n = 1;
    for (size_t i = 0; i < len; i++)
        n += s[i] == '.';
    return n;
}

static int build_index(parse_t *ps, vd_list_data_t *d) {
    if (d->kind == VD_LIST_IP) return vd_prefix_table_build(&d->ip, ps->prefixes, d->n);
    if (!(d->strings = malloc((d->n + 1) * sizeof *d->strings))) return VD_ENOMEM;
    for (size_t i = 0; i < d->n; i++) {
        d->strings[i] = (vd_string_t){d->text + d->entries[i].off, d->entries[i].len, (uint32_t)i};
        if (d->kind == VD_LIST_DOMAIN) {
            size_t k = labels(d->strings[i].s, d->strings[i].len);
            d->label_counts |= 1ull << (k > 63 ? 63 : k);
        }
    }
    return vd_string_set_build(&d->set, d->strings, d->n);
}

/* A list is read where it was found, its path resolved when the policy opened it: a link put
 * in its place later (or in place of a folder on the way) would read a file elsewhere, so the
 * path must still be its own resolution, and the file is opened without following a link. */
static int still_in_place(const char *path, char *err, size_t errlen) {
    char real[PATH_MAX];
    /* A path that does not resolve is left to open() to report. */
    if (path[0] != '/' || !realpath(path, real) || strcmp(real, path) == 0) return 1;
    snprintf(err, errlen,
             "%s: now reached through a symbolic link; a list is read only where it was when "
             "the policy loaded",
             path);
    return 0;
}

static int read_file(const char *path, char **text, size_t *len, file_id_t *id, char *err,
                     size_t errlen) {
    if (!still_in_place(path, err, errlen)) return VD_EIO;
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    struct stat st;
    if (fd < 0 || fstat(fd, &st) != 0) {
        snprintf(err, errlen, "%s: %s", path, strerror(errno));
        if (fd >= 0) close(fd);
        return VD_EIO;
    }
    *id = (file_id_t){st.st_dev, st.st_ino, st.st_size, st.st_mtim};
    size_t cap = (size_t)st.st_size, n = 0;
    char *buf = malloc(cap + 1);
    while (buf) {
        if (n == cap) { /* grew while we read: read on */
            char *nb = realloc(buf, cap * 2 + 4096);
            if (!nb) break;
            buf = nb;
            cap = cap * 2 + 4096;
        }
        ssize_t r = read(fd, buf + n, cap - n);
        if (r < 0 && errno == EINTR) continue;
        if (r < 0) {
            snprintf(err, errlen, "%s: %s", path, strerror(errno));
            free(buf);
            close(fd);
            return VD_EIO;
        }
        if (r == 0) break;
        n += (size_t)r;
    }
    close(fd);
    if (!buf) return VD_ENOMEM;
    *text = buf;
    *len = n;
    return 0;
}

/* Reads and indexes the file: one new version, or an error in err. */
static int load(const char *path, vd_list_kind_t kind, int skip_bad, vd_list_data_t **out,
                file_id_t *id, char *err, size_t errlen) {
    int64_t t0 = vd_now_ns();
    vd_list_data_t *d = calloc(1, sizeof *d);
    if (!d) return VD_ENOMEM;
    atomic_init(&d->refs, 1);
    d->kind = kind;
    size_t len = 0;
    parse_t ps = {path, skip_bad, err, errlen, NULL};
    int rc = read_file(path, &d->text, &len, id, err, errlen);
    if (!rc) d->hash = XXH3_64bits(d->text, len); /* before parsing lower-cases domains */
    if (!rc) rc = parse_lines(&ps, d, len);
    if (!rc) rc = build_index(&ps, d);
    free(ps.prefixes);
    if (rc) {
        if (rc == VD_ENOMEM) snprintf(err, errlen, "%s: out of memory", path);
        data_release(d);
        return rc;
    }
    d->bytes = len + d->n * sizeof *d->entries + vd_prefix_table_bytes(&d->ip) +
               (d->strings ? d->n * sizeof *d->strings + vd_string_set_bytes(&d->set) : 0);
    d->load_seconds = seconds_since(t0);
    *out = d;
    return 0;
}

/* ---- the registry ---- */

static void publish(vd_list_t *l, vd_list_data_t *d, const file_id_t *id) {
    pthread_mutex_lock(&l->lock);
    vd_list_data_t *old = l->current;
    l->current = d;
    l->loaded = *id;
    atomic_fetch_add_explicit(&l->head.version, 1, memory_order_release);
    atomic_fetch_add(&generation, 1);
    pthread_mutex_unlock(&l->lock);
    data_release(old);
}

void vd__list_ref_update(vd_list_ref_t *ref) {
    vd_list_t *l = ref->list;
    pthread_mutex_lock(&l->lock);
    vd_list_data_t *d = l->current;
    atomic_fetch_add(&d->refs, 1);
    uint64_t version = atomic_load(&l->head.version);
    pthread_mutex_unlock(&l->lock);
    data_release(ref->data);
    ref->data = d;
    ref->version = version;
}

static int same_file(const file_id_t *a, const file_id_t *b) {
    return a->dev == b->dev && a->ino == b->ino && a->size == b->size &&
           a->mtime.tv_sec == b->mtime.tv_sec && a->mtime.tv_nsec == b->mtime.tv_nsec;
}

static int stat_id(const char *path, file_id_t *id) {
    struct stat st;
    if (stat(path, &st) != 0) return -1;
    *id = (file_id_t){st.st_dev, st.st_ino, st.st_size, st.st_mtim};
    return 0;
}

/* Whether the file as seen now (id) holds something to load: it is not the version loaded,
 * nor one already refused. */
static int worth_loading(const vd_list_t *l, const file_id_t *id) {
    return !same_file(id, &l->loaded) && !(l->has_refused && same_file(id, &l->refused));
}

/* Rebuilds l from its file, seen as seen; when that fails the old version stays, and the
 * refusal is logged and counted once for this state of the file. */
static void rebuild(vd_list_t *l, const file_id_t *seen) {
    vd_list_data_t *d;
    file_id_t id;
    char err[512];
    int rc = load(l->path, l->kind, l->skip_bad, &d, &id, err, sizeof err);
    if (rc) {
        l->errors++;
        pthread_mutex_lock(&l->lock);
        l->refused = *seen;
        l->has_refused = 1;
        snprintf(l->error, sizeof l->error, "%s", err);
        size_t n = l->current->n;
        pthread_mutex_unlock(&l->lock);
        vd_log(VD_LOG_WARN,
               "list %s: the new version is refused, the previous one (%zu entries) stays "
               "until the file is fixed: %s",
               l->path, n, err);
        return;
    }
    pthread_mutex_lock(&l->lock);
    l->has_refused = 0;
    l->error[0] = '\0';
    pthread_mutex_unlock(&l->lock);
    publish(l, d, &id);
    l->reloads++;
    vd_log(VD_LOG_INFO, "list %s reloaded: %zu entries in %.3f s", l->path, d->n, d->load_seconds);
}

static vd_list_t *find_list(const char *path, vd_list_kind_t kind) {
    vd_list_t *l = registry;
    while (l && !(l->kind == kind && strcmp(l->path, path) == 0))
        l = l->next;
    return l;
}

/* A new list around its first version, in the registry with one reference. */
static int add_list(const char *path, vd_list_kind_t kind, int skip_bad, vd_list_data_t *d,
                    const file_id_t *id, vd_list_t **out) {
    vd_list_t *l = calloc(1, sizeof *l);
    if (!l || !(l->path = strdup(path))) {
        free(l);
        return VD_ENOMEM;
    }
    l->kind = kind;
    l->skip_bad = skip_bad;
    pthread_mutex_init(&l->lock, NULL);
    atomic_init(&l->head.version, 1);
    l->current = d;
    l->loaded = *id;
    l->refs = 1;
    pthread_mutex_lock(&registry_lock);
    l->next = registry;
    registry = l;
    pthread_mutex_unlock(&registry_lock);
    *out = l;
    return 0;
}

int vd_list_open(const char *path, vd_list_kind_t kind, int skip_bad, vd_list_ref_t *out, char *err,
                 size_t errlen) {
    /* Loads run under load_lock only, so that several policy copies compiling at once load a
     * file once, while stats and the lookups (which take the registry lock or none) go on. */
    pthread_mutex_lock(&load_lock);
    pthread_mutex_lock(&registry_lock);
    vd_list_t *l = find_list(path, kind);
    file_id_t now;
    int stale = 0;
    if (l) {
        l->refs++;
        /* Opened again by a reload of the policies: pick up a changed file now. A version
         * that does not load leaves the previous one in place: the policy reload goes on. */
        stale = !l->building && stat_id(path, &now) == 0 && worth_loading(l, &now);
        if (stale) l->building = 1;
    }
    pthread_mutex_unlock(&registry_lock);
    int rc = 0;
    if (stale) {
        rebuild(l, &now);
        pthread_mutex_lock(&registry_lock);
        l->building = 0;
        pthread_mutex_unlock(&registry_lock);
    } else if (!l) {
        vd_list_data_t *d = NULL;
        file_id_t id;
        rc = load(path, kind, skip_bad, &d, &id, err, errlen);
        if (!rc && (rc = add_list(path, kind, skip_bad, d, &id, &l)) != 0) {
            snprintf(err, errlen, "%s: out of memory", path);
            data_release(d);
        }
    }
    pthread_mutex_unlock(&load_lock);
    *out = (vd_list_ref_t){.list = l};
    if (rc) {
        vd_list_ref_close(out); /* the reference taken above, if any */
        return rc;
    }
    vd__list_ref_update(out);
    return 0;
}

int vd_list_open_loaded(const char *path, int kind, vd_list_ref_t *out) {
    vd_list_t *found = NULL;
    int n = 0;
    pthread_mutex_lock(&registry_lock);
    for (vd_list_t *l = registry; l; l = l->next)
        if (strcmp(l->path, path) == 0 && (kind < 0 || (int)l->kind == kind)) found = l, n++;
    if (n == 1) found->refs++;
    pthread_mutex_unlock(&registry_lock);
    *out = (vd_list_ref_t){.list = n == 1 ? found : NULL};
    if (n != 1) return n ? VD_EINVAL : VD_ENOTFOUND;
    vd__list_ref_update(out);
    return 0;
}

void vd_list_ref_close(vd_list_ref_t *ref) {
    vd_list_t *l = ref->list;
    if (!l) return;
    data_release(ref->data);
    ref->list = NULL;
    ref->data = NULL;
    pthread_mutex_lock(&registry_lock);
    int last = --l->refs == 0;
    if (last) {
        vd_list_t **pp = &registry;
        while (*pp != l)
            pp = &(*pp)->next;
        *pp = l->next;
    }
    pthread_mutex_unlock(&registry_lock);
    if (!last) return;
    data_release(l->current);
    pthread_mutex_destroy(&l->lock);
    free(l->path);
    free(l);
}

void vd_lists_check(void) {
    enum { MAX_BATCH = 64 };
    vd_list_t *todo[MAX_BATCH];
    file_id_t seen[MAX_BATCH];
    size_t n = 0;
    pthread_mutex_lock(&registry_lock);
    for (vd_list_t *l = registry; l && n < MAX_BATCH; l = l->next) {
        file_id_t now;
        if (l->building || stat_id(l->path, &now) != 0 || !worth_loading(l, &now)) {
            l->has_candidate = 0;
            continue;
        }
        if (l->has_candidate && same_file(&now, &l->candidate)) { /* settled: rebuild */
            l->has_candidate = 0;
            l->building = 1;
            l->refs++;
            seen[n] = now;
            todo[n++] = l;
        } else {
            l->candidate = now;
            l->has_candidate = 1;
        }
    }
    pthread_mutex_unlock(&registry_lock);
    for (size_t i = 0; i < n; i++) {
        rebuild(todo[i], &seen[i]);
        pthread_mutex_lock(&registry_lock);
        todo[i]->building = 0;
        pthread_mutex_unlock(&registry_lock);
        vd_list_ref_t ref = {.list = todo[i]}; /* drops the check's reference */
        vd_list_ref_close(&ref);
    }
}

size_t vd_lists_each(void (*fn)(const vd_list_info_t *info, size_t i, size_t n, void *arg),
                     void *arg) {
    pthread_mutex_lock(&registry_lock);
    size_t n = 0, i = 0;
    for (vd_list_t *l = registry; l; l = l->next)
        n++;
    for (vd_list_t *l = registry; l; l = l->next) {
        char error[sizeof l->error];
        pthread_mutex_lock(&l->lock);
        const vd_list_data_t *d = l->current;
        vd_list_info_t info = {
            l->path,    l->kind,   d->n,       d->bytes,        atomic_load(&l->head.version),
            l->reloads, l->errors, d->skipped, d->load_seconds, d->hash,
            error};
        memcpy(error, l->error, sizeof error);
        pthread_mutex_unlock(&l->lock);
        fn(&info, i++, n, arg);
    }
    pthread_mutex_unlock(&registry_lock);
    return n;
}

/* ---- lookups ---- */

static void fill(const vd_list_data_t *d, uint32_t id, vd_list_hit_t *hit) {
    const entry_t *e = &d->entries[id];
    *hit = (vd_list_hit_t){d->text + e->off, d->text + e->voff, e->len, e->vlen};
}

int vd_list_find_ip(vd_list_ref_t *ref, const vd_ip_t *ip, vd_list_hit_t *hit) {
    vd_list_ref_refresh(ref);
    const vd_list_data_t *d = ref->data;
    if (d->kind != VD_LIST_IP) return 0;
    uint32_t id = vd_prefix_table_find(&d->ip, ip);
    if (id == VD_PREFIX_NONE) return 0;
    if (hit) fill(d, id, hit);
    return 1;
}

int vd_list_find(vd_list_ref_t *ref, const char *s, size_t len, vd_list_hit_t *hit) {
    vd_list_ref_refresh(ref);
    const vd_list_data_t *d = ref->data;
    if (d->kind == VD_LIST_IP) {
        vd_ip_t ip;
        return vd_ip_parse(s, len, &ip) == 0 && vd_list_find_ip(ref, &ip, hit);
    }
    uint32_t id = VD_STRING_NONE;
    if (d->kind == VD_LIST_EXACT) {
        id = vd_string_set_find(&d->set, s, len);
    } else {
        char buf[256]; /* a domain and its parents, longest first */
        if (len && s[len - 1] == '.') len--;
        if (len == 0 || len >= sizeof buf) return 0;
        for (size_t i = 0; i < len; i++)
            buf[i] = (char)tolower((unsigned char)s[i]);
        /* Only suffixes with as many labels as some entry are looked up: most miss the caches. */
        for (size_t at = 0, k = labels(buf, len); id == VD_STRING_NONE; k--) {
            if (d->label_counts >> (k > 63 ? 63 : k) & 1)
                id = vd_string_set_find(&d->set, buf + at, len - at);
            const char *dot = memchr(buf + at, '.', len - at);
            if (!dot) break;
            at = (size_t)(dot - buf) + 1;
        }
    }
    if (id == VD_STRING_NONE) return 0;
    if (hit) fill(d, id, hit);
    return 1;
}

size_t vd_list_size(const vd_list_ref_t *ref) {
    return ref->data->n;
}

const char *vd_list_path(const vd_list_ref_t *ref) {
    return ref->list->path;
}

vd_list_kind_t vd_list_kind(const vd_list_ref_t *ref) {
    return ref->list->kind;
}
