/* Reading one test file: its Lua sandbox and the globals test files use (test, merge,
 * absent), and what the readers of a case's parts share. A problem in the file is raised as a
 * Lua error "file:line: case 'name': message", which ends the file's reading. */
#ifndef VD_PTEST_READER_H
#define VD_PTEST_READER_H

#include "case.h"
#include "suite.h"

#include <lua.h>
#include <msgpack.h>
#include <stddef.h>

/* The file being read and the case being declared. */
typedef struct vd_ptest_reader {
    vd_ptest_suite_t *suite;
    vd_ptest_file_t *file;
    const char *src; /* the file's text, for finding lines */
    size_t len;
    const char *default_pipeline; /* the file's name without _test.lua */
    const char *case_name;        /* the case being read, and its line */
    int case_line;
    const char *key; /* the key being read (NULL: none), searched for from line key_from */
    int key_from;
    const char *error;  /* the first case that could not be read, even if the file caught it */
    msgpack_sbuffer sb; /* scratch for packing events */
} vd_ptest_reader_t;

/* Runs text (len bytes) as the test file f in a new sandbox, adding its cases to s. A problem
 * in the file is kept in f->error, and then none of its cases is kept. Returns 0 or
 * VD_ENOMEM. */
int vd_ptest_read(vd_ptest_suite_t *s, vd_ptest_file_t *f, const char *text, size_t len);

/* Raises "file:line: case 'name': message". Line 0 stands for the line of the key being read
 * (r->key), else the case's. Never returns. */
_Noreturn void vd_ptest_raise(lua_State *L, const vd_ptest_reader_t *r, int line, const char *fmt,
                              ...) __attribute__((format(printf, 4, 5)));

/* Raises "out of memory" (the suite's arena could not grow). Never returns. */
_Noreturn void vd_ptest_nomem(lua_State *L);

/* Raises unless every key of the table at idx is a string in known (NULL-terminated); what
 * names the table in the message ("expect"; "" for the case's own). */
void vd_ptest_check_keys(lua_State *L, const vd_ptest_reader_t *r, int idx, const char *what,
                         const char *const *known);

/* Pushes t[key] of the table at idx and returns 1, or returns 0 (nothing pushed) when it is
 * nil. */
int vd_ptest_field(lua_State *L, int idx, const char *key);

/* 1 when the value at idx is the global `absent`. */
int vd_ptest_is_absent(lua_State *L, int idx);

/* When the value at idx is what ago(seconds, event) made: pushes the event, sets *seconds and
 * returns 1; else returns 0 and pushes nothing. */
int vd_ptest_ago(lua_State *L, int idx, int64_t *seconds);

/* A copy of the string at idx in the suite's arena (raises when it is no string, naming what,
 * or when out of memory); *len gets its length unless len is NULL. */
const char *vd_ptest_string(lua_State *L, const vd_ptest_reader_t *r, int idx, const char *what,
                            size_t *len);

/* The line where key is assigned, searched from line from up to line to (0: the end), or
 * otherwise. */
int vd_ptest_key_line(const vd_ptest_reader_t *r, int from, int to, const char *key, int otherwise);

#endif
