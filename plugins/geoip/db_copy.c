#include "db_copy.h"

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/sendfile.h>
#include <unistd.h>

void geo_dbs_init(geo_dbs_t *s) {
    pthread_mutex_init(&s->lock, NULL);
    s->open = NULL;
}

static void close_db(geo_db_t *db) {
    MMDB_close(&db->mmdb);
    free(db->path);
    free(db);
}

void geo_dbs_close(geo_dbs_t *s) {
    for (geo_db_t *db = s->open, *next; db; db = next) {
        next = db->next;
        close_db(db);
    }
    s->open = NULL;
    pthread_mutex_destroy(&s->lock);
}

static int same_file(const struct stat *a, const struct stat *b) {
    return a->st_dev == b->st_dev && a->st_ino == b->st_ino && a->st_size == b->st_size &&
           a->st_mtim.tv_sec == b->st_mtim.tv_sec && a->st_mtim.tv_nsec == b->st_mtim.tv_nsec &&
           a->st_ctim.tv_sec == b->st_ctim.tv_sec && a->st_ctim.tv_nsec == b->st_ctim.tv_nsec;
}

/* A sealed memfd holding what fd reads, or -1. */
static int private_copy(int fd, const char *path) {
    const char *base = strrchr(path, '/');
    char name[64];
    snprintf(name, sizeof name, "verdict-geoip:%s", base ? base + 1 : path);
    int copy = memfd_create(name, MFD_CLOEXEC | MFD_ALLOW_SEALING);
    if (copy < 0) return -1;
    for (;;) { /* in the kernel, without a trip through a buffer of ours */
        ssize_t n = sendfile(copy, fd, NULL, (size_t)1 << 30);
        if (n < 0 && errno == EINTR) continue;
        if (n == 0) break;
        if (n < 0) {
            close(copy);
            return -1;
        }
    }
    if (fcntl(copy, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE | F_SEAL_SEAL) != 0) {
        close(copy);
        return -1;
    }
    return copy;
}

/* What libmaxminddb reads before looking anything up must lie inside the file: the search
 * tree (node_count records of record_size bits, twice) and the 16-byte separator. */
static int metadata_fits(const MMDB_s *m) {
    uint64_t tree = (uint64_t)m->metadata.node_count * m->metadata.record_size / 4;
    return m->metadata.node_count > 0 &&
           (m->metadata.ip_version == 4 || m->metadata.ip_version == 6) &&
           tree + 16 <= (uint64_t)m->file_size;
}

/* Opens a new database from path (fd is open on it): from a private copy when one can be
 * made, else in place. */
static int open_new(int fd, const char *path, const struct stat *st, geo_db_t **out) {
    geo_db_t *db = calloc(1, sizeof *db);
    if (!db || !(db->path = strdup(path))) {
        free(db);
        return MMDB_OUT_OF_MEMORY_ERROR;
    }
    db->st = *st;
    int copy = private_copy(fd, path);
    char where[32];
    snprintf(where, sizeof where, "/proc/self/fd/%d", copy);
    db->private_copy = copy >= 0 && access(where, R_OK) == 0;
    int rc = MMDB_open(db->private_copy ? where : path, MMDB_MODE_MMAP, &db->mmdb);
    if (copy >= 0) close(copy); /* the mapping keeps the copy */
    if (rc == MMDB_SUCCESS && !metadata_fits(&db->mmdb)) {
        MMDB_close(&db->mmdb);
        rc = MMDB_INVALID_METADATA_ERROR;
    }
    if (rc != MMDB_SUCCESS) {
        free(db->path);
        free(db);
        return rc;
    }
    db->refs = 1;
    *out = db;
    return MMDB_SUCCESS;
}

int geo_db_open(geo_dbs_t *s, const char *path, geo_db_t **out) {
    *out = NULL;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return MMDB_FILE_OPEN_ERROR;
    struct stat st;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        close(fd);
        return MMDB_FILE_OPEN_ERROR;
    }
    pthread_mutex_lock(&s->lock);
    geo_db_t *db = s->open;
    while (db && !(strcmp(db->path, path) == 0 && same_file(&db->st, &st)))
        db = db->next;
    int rc = MMDB_SUCCESS;
    if (db) {
        db->refs++;
    } else if ((rc = open_new(fd, path, &st, &db)) == MMDB_SUCCESS) {
        db->next = s->open;
        s->open = db;
    }
    pthread_mutex_unlock(&s->lock);
    close(fd);
    *out = db;
    return rc;
}

void geo_db_release(geo_dbs_t *s, geo_db_t *db) {
    if (!db) return;
    pthread_mutex_lock(&s->lock);
    int last = --db->refs == 0;
    if (last) {
        geo_db_t **p = &s->open;
        while (*p != db)
            p = &(*p)->next;
        *p = db->next;
    }
    pthread_mutex_unlock(&s->lock);
    if (last) close_db(db);
}
