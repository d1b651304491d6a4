/* MMDB databases opened from private, sealed in-memory copies, shared by every instance that
 * opens the same unchanged file.
 *
 * libmaxminddb maps its file. A database overwritten in place while mapped (cp over it) would
 * fault at the next lookup past its new end: SIGBUS, and the daemon with it. So the bytes are
 * copied once into a memfd that nothing can change, and the database is opened from there.
 * The instances of every worker share that copy, as they shared the page cache before. */
#ifndef GEOIP_DB_COPY_H
#define GEOIP_DB_COPY_H

#include <maxminddb.h>
#include <pthread.h>
#include <sys/stat.h>

typedef struct geo_db {
    MMDB_s mmdb;
    char *path;
    struct stat st;   /* the file as it was copied: another open of it shares the copy */
    int private_copy; /* 0: opened in place, where no private copy could be made */
    int refs;
    struct geo_db *next;
} geo_db_t;

/* The databases one loaded copy of the plugin has open (its init() global). */
typedef struct geo_dbs {
    pthread_mutex_t lock; /* create() and destroy() run on any thread */
    geo_db_t *open;
} geo_dbs_t;

void geo_dbs_init(geo_dbs_t *s);

/* Closes what is still open (nothing, once every instance released its databases). */
void geo_dbs_close(geo_dbs_t *s);

/* Opens the database at path: shares the copy of it already open when the file has not
 * changed since (same inode, size and times), else copies it and opens the copy, and checks
 * that its metadata fits the file. Returns MMDB_SUCCESS with *out, or an MMDB_* error code
 * (MMDB_strerror) with *out NULL. */
int geo_db_open(geo_dbs_t *s, const char *path, geo_db_t **out);

/* Lets go of a database from geo_db_open; the last user closes it. */
void geo_db_release(geo_dbs_t *s, geo_db_t *db);

#endif
