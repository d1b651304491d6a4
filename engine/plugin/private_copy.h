/* Private, content-addressed copies of plugin files. A plugin is never mapped from its
 * installed file: its bytes are read once, named by their hash, and copied into a sealed
 * memory file (memfd) that dlopen maps. Overwriting the installed file (cp over it, a rebuild
 * in place) then cannot change the code a running daemon executes, and the hash tells a
 * reload whether the file holds a new build. */
#ifndef VD_PLUGIN_PRIVATE_COPY_H
#define VD_PLUGIN_PRIVATE_COPY_H

#include <stddef.h>

#define VD_CONTENT_HEX 33 /* 128 bits in hex, and the NUL */

/* A file's bytes and the name of its content. */
typedef struct vd_file_bytes {
    unsigned char *data;
    size_t len;
    char content[VD_CONTENT_HEX]; /* XXH3-128 of data, hex (xxhash's canonical byte order) */
} vd_file_bytes_t;

/* Reads the whole file at path (at most 1 GiB) and hashes it. Returns 0, or a negative VD_E*
 * code with "PATH: why" in err. Free with vd_file_bytes_free. */
int vd_file_bytes_read(const char *path, vd_file_bytes_t *out, char *err, size_t errlen);

void vd_file_bytes_free(vd_file_bytes_t *b);

/* Copies the bytes into a new memory file called name (shown in /proc/PID/maps), sealed
 * against writing, growing and shrinking. Returns its descriptor (close-on-exec), or a
 * negative VD_E* code with the reason in err. */
int vd_private_copy_new(const vd_file_bytes_t *b, const char *name, char *err, size_t errlen);

#endif
