#include "vd_test.h"

#include "exec/run.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static const vd_lua_limits_t limits = {.mem_limit = 32u << 20,
                                       .call_mem_limit = 8u << 20,
                                       .instr_limit = 200000,
                                       .regex_limit = 100000};

static void write_file(const char *dir, const char *rel, const char *content) {
    char path[512];
    snprintf(path, sizeof path, "%s/%s", dir, rel);
    char *slash = strrchr(path, '/');
    if (slash && slash > path + strlen(dir)) {
        *slash = '\0';
        mkdir(path, 0700);
        *slash = '/';
    }
    FILE *f = fopen(path, "w");
    if (!f) return;
    fputs(content, f);
    fclose(f);
}

static void remove_tree(const char *dir) {
    char cmd[600];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    if (system(cmd) != 0) fprintf(stderr, "cannot remove %s\n", dir);
}

int vd_test_write_dir(const char *const *files, char dir[32]) {
    snprintf(dir, 32, "/tmp/vd-unit-XXXXXX");
    if (!mkdtemp(dir)) return -1;
    for (; files[0]; files += 2)
        write_file(dir, files[0], files[1]);
    return 0;
}

void vd_test_remove_dir(const char *dir) {
    remove_tree(dir);
}

int vd_test_load(const char *const *files, vd_policy_t **out, char *err, size_t errlen) {
    return vd_test_load_with(files, &limits, out, err, errlen);
}

int vd_test_load_with(const char *const *files, const vd_lua_limits_t *with, vd_policy_t **out,
                      char *err, size_t errlen) {
    char dir[32];
    if (vd_test_write_dir(files, dir) != 0) return -1;
    vd_policy_src_t *src;
    int rc = vd_policy_src_read(dir, &src, err, errlen);
    if (rc == 0) {
        rc = vd_policy_load(src, with, NULL, out, err, errlen);
        vd_policy_src_unref(src);
    }
    remove_tree(dir);
    return rc;
}

vd_policy_t *vd_test_policy(const char *lua) {
    const char *files[] = {"main.lua", lua, NULL};
    vd_policy_t *p = NULL;
    char err[1024] = "";
    int rc = vd_test_load(files, &p, err, sizeof err);
    if (rc) fprintf(stderr, "policy failed to load: %s\n", err);
    CU_ASSERT_FATAL(rc == 0);
    return p;
}

/* One value of a typed event: its first character says the type (typed_event in vd_test.h). */
static void pack_typed(msgpack_packer *pk, const char *spec) {
    const char *v = spec + 1;
    switch (spec[0]) {
    case 's':
        msgpack_pack_str_with_body(pk, v, strlen(v));
        break;
    case 'b':
        msgpack_pack_bin_with_body(pk, v, strlen(v));
        break;
    case 'i':
        msgpack_pack_int64(pk, atoll(v));
        break;
    case 'f':
        msgpack_pack_double(pk, atof(v));
        break;
    case 't':
        msgpack_pack_true(pk);
        break;
    case 'F':
        msgpack_pack_false(pk);
        break;
    case 'a':
        msgpack_pack_array(pk, 0);
        break;
    case 'm':
        msgpack_pack_map(pk, 0);
        break;
    default:
        msgpack_pack_nil(pk);
    }
}

static const msgpack_object *pack_event(vd_test_event_t *e, const char *const *kv, int typed) {
    msgpack_packer pk;
    size_t n = 0;
    while (kv[2 * n])
        n++;
    msgpack_sbuffer_init(&e->sb);
    msgpack_packer_init(&pk, &e->sb, msgpack_sbuffer_write);
    msgpack_pack_map(&pk, n);
    for (size_t i = 0; i < n; i++) {
        msgpack_pack_str_with_body(&pk, kv[2 * i], strlen(kv[2 * i]));
        if (typed)
            pack_typed(&pk, kv[2 * i + 1]);
        else
            msgpack_pack_str_with_body(&pk, kv[2 * i + 1], strlen(kv[2 * i + 1]));
    }
    msgpack_unpacked_init(&e->up);
    msgpack_unpack_next(&e->up, e->sb.data, e->sb.size, NULL);
    return &e->up.data;
}

const msgpack_object *vd_test_event(vd_test_event_t *e, const char *const *kv) {
    return pack_event(e, kv, 0);
}

const msgpack_object *vd_test_typed_event(vd_test_event_t *e, const char *const *kv) {
    return pack_event(e, kv, 1);
}

void vd_test_event_free(vd_test_event_t *e) {
    msgpack_unpacked_destroy(&e->up);
    msgpack_sbuffer_destroy(&e->sb);
}

void vd_test_run(vd_test_run_t *r, vd_policy_t *p, const char *pipeline, const char *const *kv) {
    vd_test_run_until(r, p, pipeline, kv, 0);
}

void vd_test_run_until(vd_test_run_t *r, vd_policy_t *p, const char *pipeline,
                       const char *const *kv, int64_t deadline_ns) {
    vd_arena_init(&r->arena);
    vd_decision_init(&r->d, &r->arena, 1);
    const vd_pipeline_t *pl = vd_policy_pipeline(p, pipeline, strlen(pipeline));
    CU_ASSERT_PTR_NOT_NULL_FATAL(pl);
    vd_run_state_t rs = {0};
    r->rc = vd_pipeline_run(p, pl, vd_test_event(&r->ev, kv), &r->d, deadline_ns, &rs);
}

void vd_test_run_free(vd_test_run_t *r) {
    vd_test_event_free(&r->ev);
    vd_arena_close(&r->arena);
}
